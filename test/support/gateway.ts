import { afterAll, beforeAll, beforeEach } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startGateway, type Gateway } from '../../src/app.js';
import { allModels } from '../../src/db/indexes.js';
import { OperatorModel } from '../../src/db/models/index.js';
import { seedReplyTemplates } from '../../src/reply-templates.js';
import { testDatabaseUri } from './database.js';
import { testLogger } from './logger.js';
import { startFakeTelegram, type FakeHelperBot, type FakeTelegram } from './fake-telegram.js';
import { registerTeam, type TeamMember } from './team.js';

export interface TelegramHarness {
  gateway: Gateway;
  telegram: FakeTelegram;
  /** Empties the database and the fake server's records between tests. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}


/**
 * A real gateway (its own database on the test server, real outbox worker, real grammY bot) talking to
 * a local fake Bot API server. Start it once per test file.
 */
export async function startTelegramHarness(options: { forum?: boolean; env?: Record<string, string>; groupLimit?: { max: number; windowMs: number }; helpers?: FakeHelperBot[] } = {}): Promise<TelegramHarness> {
  const telegram = await startFakeTelegram({ forum: options.forum ?? true, groupLimit: options.groupLimit, helpers: options.helpers });
  const config = loadConfig({
    NODE_ENV: 'test',
    MONGODB_URI: testDatabaseUri(),
    TELEGRAM_BOT_TOKEN: telegram.token,
    OPERATOR_CHAT_ID: String(telegram.groupId),
    TELEGRAM_API_ROOT: telegram.apiRoot,
    ADMIN_TELEGRAM_IDS: '1',
    OUTBOX_POLL_INTERVAL: '50ms',
    DASHBOARD_INTERVAL: '200ms',
    TOPIC_RENAME_DELAY: '50ms',
    PORT: '0',
    // Telegram's real budgets would make every test wait; the burst test sets its own.
    RATE_TELEGRAM_PER_GROUP_PER_MINUTE: '100000',
    RATE_TELEGRAM_PER_CHAT_PER_SECOND: '1000',
    ...options.env,
  });
  const gateway = await startGateway(config, { logger: testLogger, listen: false }).catch(async (error: unknown) => {
    await telegram.close();
    throw error;
  });
  return {
    gateway,
    telegram,
    async reset() {
      // A send of the previous test still in flight would land in the next one (a dashboard pinned after the
      // fake server forgot its messages): let it finish first.
      await gateway.worker.settled();
      await Promise.all(allModels.filter((m) => m.modelName !== 'Operator').map((m) => m.deleteMany({})));
      await OperatorModel.deleteMany({ telegramUserId: { $ne: 1 } });
      // A fresh installation has the shipped reply templates.
      await seedReplyTemplates();
      telegram.reset();
    },
    async stop() {
      await gateway.db.connection.db?.dropDatabase().catch(() => undefined);
      await gateway.stop();
      await telegram.close();
    },
  };
}

/**
 * One harness for the calling file (or describe block): started before its tests, stopped after them, and before
 * each test emptied, with these members of the team registered as operators.
 */
export function useTelegramHarness(options: Parameters<typeof startTelegramHarness>[0] = {}, team: TeamMember[] = []): TelegramHarness {
  let harness: TelegramHarness | undefined;
  beforeAll(async () => {
    harness = await startTelegramHarness(options);
  });
  afterAll(() => harness?.stop());
  beforeEach(async () => {
    await current().reset();
    if (team.length > 0) await registerTeam(...team);
  });
  const current = () => {
    if (!harness) throw new Error('the harness is not started yet: use it inside a test or hook');
    return harness;
  };
  return {
    get gateway() {
      return current().gateway;
    },
    get telegram() {
      return current().telegram;
    },
    reset: () => current().reset(),
    stop: () => current().stop(),
  };
}

/** Polls until the condition holds (the gateway works asynchronously: updates, outbox). */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw last instanceof Error ? last : new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 30));
  }
}
