import path from 'node:path';
import { runSetup } from './run-setup.js';
import { streamPrompter } from './prompter.js';

/** `npm run setup`: the operator console's setup in the terminal, writing ./.env. */
export async function setupInTerminal(): Promise<boolean> {
  const prompter = streamPrompter(process.stdin, process.stdout);
  try {
    return await runSetup({
      prompter,
      envPath: path.resolve('.env'),
      templatePath: path.resolve('.env.example'),
      apiRoot: process.env.TELEGRAM_API_ROOT || 'https://api.telegram.org',
    });
  } finally {
    prompter.close();
  }
}
