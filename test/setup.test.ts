import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { parseEnv } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { runSetup } from '../src/setup/run-setup.js';
import { streamPrompter } from '../src/setup/prompter.js';
import { startFakeTelegram, type FakeTelegram } from './support/fake-telegram.js';
import { eventually } from './support/gateway.js';

const OWNER = { id: 4242, first_name: 'Nina', username: 'nina' };
const TEMPLATE = path.resolve('.env.example');

let telegram: FakeTelegram;
let dir: string;
let envPath: string;
beforeAll(async () => {
  telegram = await startFakeTelegram();
});
afterAll(async () => {
  await telegram.close();
});
beforeEach(async () => {
  telegram.reset();
  dir = await mkdtemp(path.join(os.tmpdir(), 'gateway-setup-'));
  envPath = path.join(dir, '.env');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Setup running against the fake Bot API, answered line by line as a user at a terminal would. */
function startSetup() {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  output.on('data', (chunk: Buffer) => (shown += chunk.toString()));
  const prompter = streamPrompter(input, output);
  const result = runSetup({ prompter, envPath, templatePath: TEMPLATE, apiRoot: telegram.apiRoot, pollIntervalMs: 20 }).finally(() => prompter.close());
  return {
    result,
    output: () => shown,
    /** Waits until setup has shown `text`, then answers with `line`. */
    async answer(text: string, line: string) {
      await eventually(() => shown.includes(text));
      shown = shown.slice(shown.indexOf(text) + text.length);
      input.write(`${line}\n`);
    },
    /** The user closes the input (Ctrl+D). */
    end: () => input.end(),
    async shows(text: string) {
      await eventually(() => shown.includes(text));
    },
  };
}

async function writtenEnv() {
  return parseEnv(await readFile(envPath, 'utf8'));
}

describe('npm run setup', () => {
  it('takes a bot token to a working .env: checks the token, finds the group the bot was added to, checks its rights', async () => {
    const setup = startSetup();
    await setup.answer('Bot token', telegram.token);
    await setup.shows('The token belongs to @support_gateway_bot.');
    await setup.shows('Waiting for the group');
    telegram.botAddedToGroup(OWNER);
    await setup.answer(`Found the group "Support operators" (${telegram.groupId}). Use it?`, '');
    expect(await setup.result).toBe(true);
    expect(setup.output()).toContain('Topics are on: forum mode, one topic per conversation.');
    expect(setup.output()).toContain('Nina (4242) is the console\'s first admin');

    const env = await writtenEnv();
    expect(env).toMatchObject({ TELEGRAM_BOT_TOKEN: telegram.token, OPERATOR_CHAT_ID: String(telegram.groupId), ADMIN_TELEGRAM_IDS: '4242' });
    // A new .env starts from .env.example, and the gateway accepts it.
    expect(env.WEBCHAT_ENABLED).toBe('true');
    expect(loadConfig(env).telegram).toMatchObject({ token: telegram.token, operatorChatId: telegram.groupId, adminIds: [4242] });
  });

  it('refuses a malformed token and one Telegram does not know, and asks again', async () => {
    const setup = startSetup();
    await setup.answer('Bot token', 'hello');
    await setup.answer('That does not look like a bot token', '999:not-a-real-token');
    await setup.answer('Telegram does not know this token', telegram.token);
    await setup.shows('The token belongs to @support_gateway_bot.');
    telegram.botAddedToGroup(OWNER);
    await setup.answer('Use it?', 'y');
    expect(await setup.result).toBe(true);
  });

  it('finds the group from a message written there, and reads the updates without taking them from the gateway', async () => {
    const setup = startSetup();
    await setup.answer('Bot token', telegram.token);
    await setup.shows('Waiting for the group');
    telegram.operatorWrites(OWNER, { text: 'hello bot' });
    await setup.answer('Use it?', '');
    expect(await setup.result).toBe(true);
    expect(telegram.state.calls.filter((c) => c.method === 'getUpdates').every((c) => c.params.offset === undefined)).toBe(true);
    expect(telegram.state.updates).toHaveLength(1);
  });

  it('explains that the bot must be an admin, and checks again once it is', async () => {
    telegram.state.botMember.status = 'member';
    const setup = startSetup();
    await setup.answer('Bot token', telegram.token);
    await setup.shows('Waiting for the group');
    telegram.botAddedToGroup(OWNER);
    await setup.answer('Use it?', '');
    await setup.shows('@support_gateway_bot is not an admin of the group');
    expect(existsSync(envPath)).toBe(false);
    telegram.state.botMember.status = 'administrator';
    await setup.answer('Press Enter to check again', '');
    expect(await setup.result).toBe(true);
    expect((await writtenEnv()).OPERATOR_CHAT_ID).toBe(String(telegram.groupId));
  });

  it('says when the bot may not manage topics in a forum, and goes on when told to', async () => {
    telegram.state.botMember.canManageTopics = false;
    const setup = startSetup();
    await setup.answer('Bot token', telegram.token);
    telegram.botAddedToGroup(OWNER);
    await setup.answer('Use it?', '');
    await setup.answer('may not manage topics', 'continue');
    expect(await setup.result).toBe(true);
  });

  it('explains reply mode in a group without Topics', async () => {
    telegram.state.forum = false;
    const setup = startSetup();
    await setup.answer('Bot token', telegram.token);
    telegram.botAddedToGroup(OWNER);
    await setup.answer('Use it?', '');
    expect(await setup.result).toBe(true);
    expect(setup.output()).toContain('Topics are off: reply mode');
  });

  it('waits for another group when the one found is not it', async () => {
    const setup = startSetup();
    await setup.answer('Bot token', telegram.token);
    telegram.botAddedToGroup(OWNER);
    await setup.answer('Use it?', 'n');
    await setup.shows('Waiting');
    telegram.operatorWrites({ id: 5151, first_name: 'Omar' }, { text: 'here' });
    await setup.answer('Use it?', 'y');
    expect(await setup.result).toBe(true);
    expect((await writtenEnv()).ADMIN_TELEGRAM_IDS).toBe('5151');
  });

  it('keeps every other line of an existing .env and sets only the Telegram values', async () => {
    await writeFile(envPath, '# our settings\nCOMPANY_NAME=Acme\nTELEGRAM_BOT_TOKEN=1:old\nADMIN_TELEGRAM_IDS=42\n');
    const setup = startSetup();
    await setup.answer('Bot token', telegram.token);
    telegram.botAddedToGroup(OWNER);
    await setup.answer('Use it?', '');
    expect(await setup.result).toBe(true);
    expect(await readFile(envPath, 'utf8')).toBe(`# our settings\nCOMPANY_NAME=Acme\nTELEGRAM_BOT_TOKEN=${telegram.token}\nADMIN_TELEGRAM_IDS=42,4242\nOPERATOR_CHAT_ID=${telegram.groupId}\n`);
  });

  it('writes nothing when the user gives no token or the input ends', async () => {
    const stopped = startSetup();
    await stopped.answer('Bot token', '');
    expect(await stopped.result).toBe(false);
    expect(stopped.output()).toContain('Setup stopped; nothing was written.');

    const ended = startSetup();
    await ended.answer('Bot token', telegram.token);
    telegram.botAddedToGroup(OWNER);
    await ended.shows('Use it?');
    ended.end();
    expect(await ended.result).toBe(false);
    expect(existsSync(envPath)).toBe(false);
  });

  it('runs as `npm run setup` with its answers piped in, writing .env where it runs', { timeout: 30_000 }, async () => {
    const cli = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.resolve('src/setup/cli.ts')], { cwd: dir, env: { ...process.env, TELEGRAM_API_ROOT: telegram.apiRoot }, stdio: ['pipe', 'pipe', 'inherit'] });
    let shown = '';
    cli.stdout.on('data', (chunk: Buffer) => (shown += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => cli.once('close', resolve));
    cli.stdin.write(`${telegram.token}\n`);
    await eventually(() => shown.includes('Waiting for the group'), 20_000);
    telegram.botAddedToGroup(OWNER);
    await eventually(() => shown.includes('Use it?'));
    cli.stdin.end('\n');
    expect(await exited).toBe(0);
    expect(parseEnv(await readFile(path.join(dir, '.env'), 'utf8'))).toMatchObject({ TELEGRAM_BOT_TOKEN: telegram.token, OPERATOR_CHAT_ID: String(telegram.groupId) });
  });
});
