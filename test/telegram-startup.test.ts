import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startGateway } from '../src/app.js';
import { testDatabaseUri } from './support/database.js';
import { testLogger } from './support/logger.js';
import { startFakeTelegram, type FakeTelegram } from './support/fake-telegram.js';

let telegram: FakeTelegram;
beforeAll(async () => {
  telegram = await startFakeTelegram();
});
afterAll(async () => {
  await mongoose.disconnect();
  await telegram.close();
});

const configFor = (env: Record<string, string>) =>
  loadConfig({ NODE_ENV: 'test', MONGODB_URI: testDatabaseUri(), TELEGRAM_API_ROOT: telegram.apiRoot, PORT: '0', ...env });

describe('Telegram at start-up', () => {
  it('stops with a message naming OPERATOR_CHAT_ID when the bot cannot reach the group', async () => {
    const start = startGateway(configFor({ TELEGRAM_BOT_TOKEN: telegram.token, OPERATOR_CHAT_ID: '-100999' }), { logger: testLogger, listen: false });
    await expect(start).rejects.toThrow(/OPERATOR_CHAT_ID=-100999: .*chat not found.*Add @support_gateway_bot to the group as an admin/);
  });

  it('stops with a message naming TELEGRAM_BOT_TOKEN when Telegram refuses the token', async () => {
    const start = startGateway(configFor({ TELEGRAM_BOT_TOKEN: '999:wrong-token', OPERATOR_CHAT_ID: String(telegram.groupId) }), { logger: testLogger, listen: false });
    await expect(start).rejects.toThrow(/TELEGRAM_BOT_TOKEN/);
  });
});
