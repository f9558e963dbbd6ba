import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';

/** A Debian package the tests need, and how to tell it is there. */
export interface Prerequisite {
  package: string;
  /** What the tests use it for, shown when it is missing. */
  purpose: string;
  present(): boolean;
}

/** The browser test/webchat.test.ts launches. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export const testPrerequisites: Prerequisite[] = [
  { package: 'dovecot-imapd', purpose: 'the IMAP server of the e-mail tests', present: () => onPath('dovecot') },
  { package: 'chromium', purpose: 'the browser of the web chat and status page tests', present: () => existsSync(CHROMIUM_PATH) },
  // src/stats/chart.ts draws the /stats chart's text with DejaVu Sans from /usr/share/fonts.
  { package: 'fonts-dejavu-core', purpose: 'the text of the /stats chart', present: () => existsSync('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf') },
];

export function installCommand(packages: string[]): string {
  return `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

/** Installs with apt-get, its output shown as it comes; throws when apt-get fails. */
export function aptGetInstall(packages: string[]): void {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...packages]]) {
    const result = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env });
    if (result.status !== 0) throw new Error(`apt-get ${args[0]} failed (exit code ${result.status ?? result.error?.message})`);
  }
}

export function canInstallWithAptGet(): boolean {
  return process.getuid?.() === 0 && onPath('apt-get');
}

/**
 * Makes sure every prerequisite is there before any test runs: what is missing is installed where that is possible
 * (root with apt-get), otherwise the run stops at once with the one command that installs it, instead of failing
 * test by test.
 */
export function ensurePrerequisites(options: { prerequisites: Prerequisite[]; canInstall: boolean; install: (packages: string[]) => void; report: (line: string) => void }): void {
  const missing = options.prerequisites.filter((p) => !p.present());
  if (missing.length === 0) return;
  const packages = missing.map((p) => p.package);
  const needs = missing.map((p) => `${p.package} (${p.purpose})`).join(', ');
  if (!options.canInstall) throw new Error(`The tests need ${needs}. Install with: sudo apt-get update && sudo ${installCommand(packages)}`);
  options.report(`The tests need ${needs}: installing with ${installCommand(packages)}`);
  options.install(packages);
  const stillMissing = missing.filter((p) => !p.present()).map((p) => p.package);
  if (stillMissing.length > 0) throw new Error(`${stillMissing.join(', ')} still missing after apt-get install`);
}
