import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from './support/database.js';
import { createOperator, inbound } from './support/factories.js';
import { testLogger } from './support/logger.js';
import { startScriptedServer } from './support/scripted-http-server.js';
import { enqueue } from '../src/outbox/enqueue.js';
import { OutboxWorker, type ClaimedItem, type Deliverer } from '../src/outbox/worker.js';
import { DeliveryError } from '../src/outbox/errors.js';
import { deliveryEvents } from '../src/outbox/delivery-events.js';
import { channelDeliverer } from '../src/outbox/channel-deliverer.js';
import { createInbox } from '../src/inbox.js';
import { replyToCustomer } from '../src/conversations/operator-actions.js';
import { CustomerModel, MessageModel, OutboxClaimModel, OutboxItemModel } from '../src/db/models/index.js';
import type { Channel } from '../src/domain.js';

useTestDatabase();
let remote: Awaited<ReturnType<typeof startScriptedServer>>;
beforeAll(async () => {
  remote = await startScriptedServer();
});
afterAll(() => remote.close());
beforeEach(() => {
  remote.requests.length = 0;
  remote.respondWith(() => undefined);
});

/** Maps the remote's HTTP answers onto delivery outcomes, as every real channel adapter does. */
async function postToRemote(path: string, body: Record<string, unknown>) {
  const response = await fetch(`${remote.url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const answer = (await response.json()) as { retry_after?: number; description?: string; message_id?: string };
  if (response.status === 429) throw DeliveryError.retryAfter(answer.retry_after ?? 1);
  if (response.status === 403 || response.status === 400) throw DeliveryError.permanent(answer.description ?? `HTTP ${response.status}`);
  if (!response.ok) throw DeliveryError.transient(`HTTP ${response.status}`);
  return answer;
}

const httpDeliverer: Deliverer = {
  rateBuckets: () => [],
  async deliver(item: ClaimedItem) {
    await postToRemote(`/${item.stream}`, { seq: item.seq, ...item.payload });
  },
};

function worker(id: string, deliverers = new Map([['test', httpDeliverer]]), extra: Partial<ConstructorParameters<typeof OutboxWorker>[0]> = {}) {
  return new OutboxWorker({ workerId: id, deliverers, logger: testLogger, leaseMs: 2000, pollIntervalMs: 50, maxAttempts: 5, sendTimeoutMs: 5000, backoffBaseMs: 50, ...extra });
}

async function until(condition: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
const allSettled = async () => (await OutboxItemModel.countDocuments({ status: 'pending' })) === 0;

describe('outbox', () => {
  it('delivers every item exactly once with two workers running side by side, in order per stream', async () => {
    for (let i = 0; i < 60; i++) await enqueue({ route: 'test', action: 'send', stream: `chat${i % 6}`, payload: { n: i } });
    const [a, b] = [worker('A'), worker('B')];
    a.start();
    b.start();
    await until(allSettled);
    await Promise.all([a.stop(), b.stop()]);

    expect(remote.requests).toHaveLength(60);
    expect(new Set(remote.requests.map((r) => r.body.n)).size).toBe(60);
    for (let chat = 0; chat < 6; chat++) {
      const seqs = remote.requests.filter((r) => r.path === `/chat${chat}`).map((r) => r.body.seq as number);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    }
    expect(await OutboxItemModel.countDocuments()).toBe(0);
  });

  it('a worker stopped in the middle of a send finishes it; the next one resumes without loss or duplicate', async () => {
    for (let i = 0; i < 5; i++) await enqueue({ route: 'test', action: 'send', stream: 'slow', payload: { n: i } });
    remote.respondWith(() => ({ status: 200, body: { ok: true }, delayMs: 300 }));
    const first = worker('first');
    first.start();
    await until(async () => remote.requests.length >= 1);
    await first.stop();
    expect(await OutboxItemModel.countDocuments()).toBeLessThanOrEqual(4);

    const second = worker('second');
    second.start();
    await until(allSettled);
    await second.stop();
    expect(remote.requests.map((r) => r.body.n)).toEqual([0, 1, 2, 3, 4]);
  });

  it("takes over a crashed worker's claim once its lease has expired, and sends the item once", async () => {
    const item = await enqueue({ route: 'test', action: 'send', stream: 'crash', payload: { n: 'orphan' } });
    // A worker claimed it and died before sending: its lease runs for 600 ms more.
    await OutboxClaimModel.create({ _id: `${item._id}#1`, item: item._id, n: 1, worker: 'dead', leaseUntil: new Date(Date.now() + 600) });
    const survivor = worker('survivor');
    const started = Date.now();
    survivor.start();
    await until(allSettled);
    await survivor.stop();
    expect(remote.requests).toHaveLength(1);
    expect(remote.requests[0]!.at - started).toBeGreaterThanOrEqual(550);
  });

  it('waits exactly the retry_after of a 429 before trying again, and does not count it as a failure', async () => {
    await enqueue({ route: 'test', action: 'send', stream: 'limited', payload: { n: 1 } });
    remote.respondWith((request) => (remote.requests.length === 1 ? { status: 429, body: { ok: false, error_code: 429, retry_after: 1 } } : undefined));
    const w = worker('w');
    w.start();
    await until(allSettled);
    await w.stop();
    expect(remote.requests).toHaveLength(2);
    const waited = remote.requests[1]!.at - remote.requests[0]!.at;
    expect(waited).toBeGreaterThanOrEqual(1000);
    expect(waited).toBeLessThan(1500);
    expect(await OutboxItemModel.countDocuments()).toBe(0);
  });

  it('retries transient errors with backoff and gives up after the maximum attempts', async () => {
    await enqueue({ route: 'test', action: 'send', stream: 'flaky', payload: { n: 1 } });
    remote.respondWith(() => ({ status: 502 }));
    const w = worker('w', undefined, { maxAttempts: 3 });
    w.start();
    await until(allSettled);
    await w.stop();
    expect(remote.requests).toHaveLength(3);
    expect(await OutboxItemModel.findOne().lean()).toMatchObject({ status: 'failed', attempts: 3, lastError: 'gave up after 3 attempts: HTTP 502' });
  });

  it('keeps the order of a stream while its head waits for a retry', async () => {
    for (let i = 0; i < 3; i++) await enqueue({ route: 'test', action: 'send', stream: 'ordered', payload: { n: i } });
    remote.respondWith((request) => (request.body.n === 0 && remote.requests.length === 1 ? { status: 500 } : undefined));
    const w = worker('w');
    w.start();
    await until(allSettled);
    await w.stop();
    expect(remote.requests.map((r) => r.body.n)).toEqual([0, 0, 1, 2]);
  });

  it('holds sends to the rate of a token bucket', async () => {
    const limited: Deliverer = { ...httpDeliverer, rateBuckets: () => [{ key: 'group', capacity: 2, refillPerSecond: 4 }] };
    for (let i = 0; i < 6; i++) await enqueue({ route: 'test', action: 'send', stream: `s${i}`, payload: { n: i } });
    const w = worker('w', new Map([['test', limited]]));
    w.start();
    await until(allSettled);
    await w.stop();
    const times = remote.requests.map((r) => r.at).sort();
    // 2 at once (the burst), then 4 more at 4/s: at least ~1 s in all.
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(900);
  });

  it('a permanent error (403 blocked) stops retrying, marks the message failed with the reason and shows it to operators', async () => {
    const inbox = createInbox({ reopenWindowMs: 3600_000, logger: testLogger });
    const stored = await inbox.receive(inbound({ channel: 'telegram', externalChatId: '777' }));
    if (stored.status !== 'stored') throw new Error();
    const operator = await createOperator();
    const reply = await replyToCustomer({ conversation: stored.conversation, operator, text: 'Are you there?' });

    remote.respondWith(() => ({ status: 403, body: { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' } }));
    const channel: Channel = {
      kind: 'telegram',
      capabilities: { edit: false, delete: false, typing: false, deliveryReceipts: false, readReceipts: false, buttons: false, maxTextLength: 4096 },
      state: () => 'up',
      start: async () => undefined,
      stop: async () => undefined,
      send: async (chatId, message) => {
        await postToRemote('/sendMessage', { chat_id: chatId, text: message.text });
        return { externalMessageId: '1' };
      },
    };
    const w = worker('w', new Map([['telegram', channelDeliverer(channel)]]), { events: deliveryEvents() });
    w.start();
    await until(async () => (await OutboxItemModel.countDocuments({ route: 'telegram', status: 'pending' })) === 0);
    await w.stop();

    expect(remote.requests).toHaveLength(1);
    const message = await MessageModel.findById(reply._id).lean();
    expect(message?.delivery).toMatchObject({ status: 'failed', error: 'Forbidden: bot was blocked by the user' });
    expect(await CustomerModel.findOne({ externalChatId: '777' }).lean()).toMatchObject({ unreachable: true });
    expect(await OutboxItemModel.countDocuments({ route: 'console', action: 'deliveryStatus', message: reply._id })).toBe(1);
  });
});
