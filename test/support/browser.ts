import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_PATH } from './prerequisites.js';

/** Debian's Chromium, headless, with nothing that reaches the internet on its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
