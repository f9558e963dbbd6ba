import { checkBotToken, type BotIdentity } from './check-token.js';
import { checkGroupRights } from './check-group-rights.js';
import { readEnvValue, writeEnvValues } from './env-file.js';
import { findOperatorGroup, type FoundGroup } from './find-operator-group.js';
import type { Prompter } from './prompter.js';

export interface SetupOptions {
  prompter: Prompter;
  /** The env file to write (.env) and the file a new one starts from (.env.example). */
  envPath: string;
  templatePath?: string;
  apiRoot: string;
  /** How often the bot's updates are read while waiting for the group. */
  pollIntervalMs?: number;
}

const STOPPED = 'Setup stopped; nothing was written. Run `npm run setup` again any time.';

/** Asks until a token Telegram knows; undefined when the user gives none. */
async function askForBot(options: SetupOptions): Promise<BotIdentity | undefined> {
  const { prompter } = options;
  for (;;) {
    const token = await prompter.ask('Bot token (empty to stop): ');
    if (!token) return undefined;
    const checked = await checkBotToken(options.apiRoot, token);
    if ('id' in checked) return checked;
    prompter.say(checked.problem);
  }
}

/** Waits for the group and lets the user turn down one found from an earlier try; undefined when input ended. */
async function askForGroup(options: SetupOptions, bot: BotIdentity): Promise<FoundGroup | undefined> {
  const { prompter } = options;
  prompter.say(
    [
      '',
      'Step 2: the operators\' group. In Telegram:',
      '  - create a group for your support team (or open an existing one);',
      '  - for one topic per conversation, turn on Topics in the group\'s settings;',
      `  - add @${bot.username} to it as an admin with "Manage Topics";`,
      '  - write any message in the group.',
      'Waiting for the group…',
    ].join('\n'),
  );
  let after = 0;
  for (;;) {
    const group = await findOperatorGroup(bot.api, { after, pollIntervalMs: options.pollIntervalMs ?? 2000 });
    const answer = await prompter.ask(`Found the group "${group.title}" (${group.id}). Use it? [Y/n] `);
    if (answer === undefined) return undefined;
    if (!/^n/i.test(answer)) return group;
    after = group.updateId;
    prompter.say('Then add the bot to the right group, or write there again. Waiting…');
  }
}

/** Checks the bot's rights until they are enough or the user goes on without; false when input ended. */
async function confirmRights(options: SetupOptions, bot: BotIdentity, group: FoundGroup): Promise<boolean> {
  const { prompter } = options;
  for (;;) {
    const rights = await checkGroupRights(bot.api, bot, group.id);
    prompter.say(rights.mode);
    if (rights.missing.length === 0) return true;
    prompter.say(['Missing:', ...rights.missing.map((m) => `  - ${m}`)].join('\n'));
    const answer = await prompter.ask('Press Enter to check again once fixed, or type "continue" to go on as it is: ');
    if (answer === undefined) return false;
    if (/^c/i.test(answer)) return true;
  }
}

/**
 * `npm run setup`: from a bot token to a working operator console. Checks the token (getMe), finds the operators'
 * group from the bot's recent updates, checks the bot's rights there and explains what is missing, then writes
 * TELEGRAM_BOT_TOKEN, OPERATOR_CHAT_ID and ADMIN_TELEGRAM_IDS into the env file, keeping its other lines.
 * Returns whether it wrote the file.
 */
export async function runSetup(options: SetupOptions): Promise<boolean> {
  const { prompter } = options;
  prompter.say(
    [
      'Setting up the operator console: a Telegram group where your team sees and answers every customer.',
      '',
      'Step 1: the bot. In Telegram, ask @BotFather for /newbot and paste the token it gives you here.',
    ].join('\n'),
  );
  try {
    const bot = await askForBot(options);
    if (!bot) return stop(prompter);
    prompter.say(`The token belongs to @${bot.username}.`);
    const group = await askForGroup(options, bot);
    if (!group || !(await confirmRights(options, bot, group))) return stop(prompter);

    const admins = new Set((await readEnvValue(options.envPath, 'ADMIN_TELEGRAM_IDS'))?.split(',').map((s) => s.trim()).filter(Boolean));
    if (group.by) admins.add(String(group.by.id));
    await writeEnvValues(options.envPath, { TELEGRAM_BOT_TOKEN: bot.token, OPERATOR_CHAT_ID: String(group.id), ADMIN_TELEGRAM_IDS: [...admins].join(',') }, options.templatePath);
    prompter.say(
      [
        '',
        `Wrote TELEGRAM_BOT_TOKEN, OPERATOR_CHAT_ID=${group.id} and ADMIN_TELEGRAM_IDS to ${options.envPath}.`,
        ...(group.by ? [`${group.by.first_name} (${group.by.id}) is the console's first admin: /op add adds more operators.`] : []),
        'Start the gateway with `npm start`, open http://localhost:3000/ and write in the web chat there: the message appears in the group.',
      ].join('\n'),
    );
    return true;
  } catch (error) {
    prompter.say(`${(error as Error).message}\n${STOPPED}`);
    return false;
  }
}

function stop(prompter: Prompter): false {
  prompter.say(STOPPED);
  return false;
}
