import { Bot } from 'grammy';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfirmingPoller } from '../src/console/telegram/confirming-poller.js';
import { startFakeTelegram, type FakeTelegram } from './support/fake-telegram.js';
import { testLogger } from './support/logger.js';

let telegram: FakeTelegram;
beforeAll(async () => {
  telegram = await startFakeTelegram();
});
afterAll(() => telegram.close());
beforeEach(() => telegram.reset());

/** The error the MongoDB driver throws while the database is unreachable. */
function databaseDown(): Error {
  return Object.assign(new Error('connection refused'), { name: 'MongoNetworkError' });
}

const offsetsAsked = () => telegram.state.calls.filter((c) => c.method === 'getUpdates').map((c) => Number(c.params.offset ?? 0));

async function until(condition: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function botOn(fake: FakeTelegram): Bot {
  return new Bot(fake.token, { client: { apiRoot: fake.apiRoot }, botInfo: { ...fake.bot, can_join_groups: true, can_read_all_group_messages: true, supports_inline_queries: false, can_connect_to_business: false, has_main_web_app: false } as never });
}

describe('Telegram long polling', () => {
  it('confirms an update only after it was handled, and handles it again while the database is unreachable', async () => {
    const bot = botOn(telegram);
    const handled: string[] = [];
    let outage = 3;
    bot.on('message:text', async (ctx) => {
      if (ctx.message.text === 'during the outage' && outage-- > 0) throw databaseDown();
      handled.push(ctx.message.text);
    });
    const poller = new ConfirmingPoller(bot, { logger: testLogger, allowedUpdates: ['message'], pollTimeoutSeconds: 1 });
    telegram.customerWrites({ id: 42, first_name: 'Ann' }, { text: 'before' });
    const stuck = telegram.customerWrites({ id: 43, first_name: 'Bob' }, { text: 'during the outage' });
    telegram.customerWrites({ id: 44, first_name: 'Cid' }, { text: 'after' });
    const stuckUpdateId = telegram.state.updates.find((u) => (u.message as { message_id: number }).message_id === stuck.message_id)!.update_id as number;
    poller.start();
    try {
      await until(() => handled.includes('before') && handled.includes('after'));
      // While the stuck update waits for the database, no getUpdates call may confirm it.
      expect(Math.max(...offsetsAsked())).toBeLessThanOrEqual(stuckUpdateId);
      await until(() => handled.includes('during the outage'));
      await until(() => offsetsAsked().some((offset) => offset > stuckUpdateId + 1));
    } finally {
      await poller.stop();
    }
    expect(handled.filter((text) => text === 'during the outage')).toHaveLength(1);
    expect(handled.sort()).toEqual(['after', 'before', 'during the outage']);
  });

  it('leaves an update it could not store unconfirmed when stopped, so the next run gets it again', async () => {
    const first = botOn(telegram);
    first.on('message', () => Promise.reject(databaseDown()));
    const stopped = new ConfirmingPoller(first, { logger: testLogger, allowedUpdates: ['message'], pollTimeoutSeconds: 1 });
    telegram.customerWrites({ id: 42, first_name: 'Ann' }, { text: 'kept at Telegram' });
    stopped.start();
    await until(() => offsetsAsked().length >= 1);
    await stopped.stop();

    const second = botOn(telegram);
    const handled: string[] = [];
    second.on('message:text', (ctx) => void handled.push(ctx.message.text));
    const restarted = new ConfirmingPoller(second, { logger: testLogger, allowedUpdates: ['message'], pollTimeoutSeconds: 1 });
    restarted.start();
    try {
      await until(() => handled.length === 1);
    } finally {
      await restarted.stop();
    }
    expect(handled).toEqual(['kept at Telegram']);
  });

  it('drops, after a few attempts, an update whose handling fails for a reason other than the database', async () => {
    const bot = botOn(telegram);
    const seen: string[] = [];
    bot.on('message:text', (ctx) => {
      seen.push(ctx.message.text);
      if (ctx.message.text === 'broken') throw new Error('a bug');
    });
    const poller = new ConfirmingPoller(bot, { logger: testLogger, allowedUpdates: ['message'], pollTimeoutSeconds: 1 });
    telegram.customerWrites({ id: 42, first_name: 'Ann' }, { text: 'broken' });
    telegram.customerWrites({ id: 42, first_name: 'Ann' }, { text: 'fine' });
    poller.start();
    try {
      await until(() => seen.includes('fine'));
      await until(() => telegram.state.updates.length === 0);
    } finally {
      await poller.stop();
    }
    expect(seen.filter((text) => text === 'broken')).toHaveLength(3);
    expect(seen.filter((text) => text === 'fine')).toHaveLength(1);
  });
});
