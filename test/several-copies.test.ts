import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaledGroupLimit, startFakeTelegram, type FakeTelegram } from './support/fake-telegram.js';
import { startFakeGraphApi } from './support/fake-graph-api.js';
import { GatewayProcess } from './support/gateway-process.js';
import { RetryingWebhookSender } from './support/chaos/webhook-sender.js';
import { waitFor } from './support/wait.js';
import { freePort } from '../src/util/free-port.js';
import { OPERATOR_FOLLOWUP_JOB } from '../src/jobs/operator-followup.js';

// Two gateway copies (real processes) on one embedded database, as a team that outgrew one process runs them:
// Telegram by webhook (one long-polling client per bot is all Telegram allows), Messenger webhooks and operators'
// updates split over both, both sending into one operator group whose budget Telegram counts per bot.
const SECRET = 'several-copies-secret-0123';
// The full size (50 x 10): SEVERAL_COPIES_CUSTOMERS=50 SEVERAL_COPIES_MESSAGES=10 SEVERAL_COPIES_TIME_SCALE=4 npx vitest run test/several-copies.test.ts
const CUSTOMERS = Number(process.env.SEVERAL_COPIES_CUSTOMERS ?? 10);
const MESSAGES_EACH = Number(process.env.SEVERAL_COPIES_MESSAGES ?? 5);
/** Telegram's minute runs this many times faster (SEVERAL_COPIES_TIME_SCALE; the full size is run at 4). */
const TIME_SCALE = Number(process.env.SEVERAL_COPIES_TIME_SCALE ?? 10);
/** How long a step may take: more messages and slower time need more of the group's budget. */
const PATIENCE_MS = 60_000 * Math.max(1, (CUSTOMERS * MESSAGES_EACH) / 50) * (10 / TIME_SCALE);
const operator = { id: 2, first_name: 'Bob', username: 'bob_op' };

let dir: string;
let telegram: FakeTelegram;
let graph: Awaited<ReturnType<typeof startFakeGraphApi>>;
let copies: GatewayProcess[];
let db: mongoose.Connection;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'several-copies-'));
  telegram = await startFakeTelegram({ forum: true, groupLimit: scaledGroupLimit(TIME_SCALE).groupLimit });
  graph = await startFakeGraphApi();
  for (let i = 0; i < CUSTOMERS; i++) graph.state.profiles.set(String(20_000 + i), { first_name: 'Customer', last_name: String(i) });
  const env = {
    TELEGRAM_BOT_TOKEN: telegram.token,
    OPERATOR_CHAT_ID: String(telegram.groupId),
    TELEGRAM_API_ROOT: telegram.apiRoot,
    TELEGRAM_WEBHOOK_URL: 'https://support.example.com/telegram/webhook',
    TELEGRAM_WEBHOOK_SECRET: SECRET,
    ADMIN_TELEGRAM_IDS: String(operator.id),
    MESSENGER_PAGE_TOKEN: graph.pageToken,
    MESSENGER_APP_SECRET: graph.appSecret,
    MESSENGER_VERIFY_TOKEN: 'several-copies-verify',
    GRAPH_API_BASE_URL: graph.graphApiBaseUrl,
    // Telegram's budget ten times faster (the fake allows each bot 20 calls per 6 s): shared by both copies.
    RATE_TELEGRAM_PER_GROUP_PER_MINUTE: scaledGroupLimit(TIME_SCALE).gatewayPerMinute,
    TOPIC_RENAME_DELAY: '200ms',
    OUTBOX_POLL_INTERVAL: '100ms',
    JOBS_LEADER_LEASE: '3s',
    DATA_DIR: path.join(dir, 'db'),
  };
  // One data directory, one database: the second copy uses the embedded server the first one runs.
  copies = [new GatewayProcess({ env, dir: path.join(dir, 'a'), port: await freePort() }), new GatewayProcess({ env, dir: path.join(dir, 'b'), port: await freePort() })];
  await Promise.all(copies.map((copy) => mkdir(copy.dir, { recursive: true })));
  await Promise.all(copies.map((copy) => copy.start()));
  const port = (await copies[0]!.logLines()).find((line) => typeof line.port === 'number' && /embedded/i.test(String(line.msg)))?.port;
  db = await mongoose.createConnection(`mongodb://127.0.0.1:${port}/support`).asPromise();
}, 180_000);

afterAll(async () => {
  await db?.close();
  await Promise.all((copies ?? []).map((copy) => copy.stop()));
  await telegram?.close();
  await graph?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * Telegram delivering an update to one copy's webhook, as it would to whichever copy the load balancer picks; an
 * answer other than 2xx (a copy too busy to handle it in time) is delivered again, as Telegram does.
 */
async function deliverUpdate(copy: GatewayProcess, update: Record<string, unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${copy.url}/telegram/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: JSON.stringify(update) });
    if (response.ok) return;
    if (attempt === 10) throw new Error(`the webhook answered ${response.status} ten times`);
    await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
  }
}

/** An operator's message in a topic, as a Telegram update (the fake server records it; nobody polls it). */
function operatorUpdate(text: string, threadId: number): Record<string, unknown> {
  telegram.operatorWrites(operator, { text }, { threadId });
  return telegram.state.updates.pop()!;
}

const conversations = () => db.db!.collection('conversations').find({}).toArray();

describe('two gateway copies on one database', () => {
  it('start together on an empty database and both answer', async () => {
    expect(await Promise.all(copies.map((copy) => copy.healthy()))).toEqual([true, true]);
  });

  it('store every customer message once, count it once, and open one topic per conversation', async () => {
    const senders = copies.map((copy) => new RetryingWebhookSender(`${copy.url}/webhooks/messenger`, 5));
    for (let m = 0; m < MESSAGES_EACH; m++) {
      for (let c = 0; c < CUSTOMERS; c++) senders[(c + m) % 2]!.send(graph.webhook([graph.customerMessage(String(20_000 + c), { text: `message ${m} of customer ${c}` })]));
    }
    await Promise.all(senders.map((s) => s.drained()));
    await waitFor('every conversation with its topic', async () => (await conversations()).filter((c) => c.console?.topicId).length === CUSTOMERS, PATIENCE_MS, 200);
    const stored = await db.db!.collection('messages').countDocuments({ direction: 'in' });
    expect(stored).toBe(CUSTOMERS * MESSAGES_EACH);
    const all = await conversations();
    expect(all, JSON.stringify({ conversations: all.map((c) => [c.number, String(c.customer), c.openKey, c.status]), customers: await db.db!.collection('customers').countDocuments(), indexes: await db.db!.collection('conversations').indexes() })).toHaveLength(CUSTOMERS);
    expect(all.map((c) => c.counts?.in)).toEqual(Array(CUSTOMERS).fill(MESSAGES_EACH));
    // Every relay shown once, and one topic per conversation.
    await waitFor('every message shown', () => telegram.groupMessages().filter((m) => m.message_thread_id !== undefined && /message \d of customer/.test(m.text ?? '')).length >= 1 && CUSTOMERS * MESSAGES_EACH === countShown(), PATIENCE_MS, 200);
    expect(telegram.state.calls.filter((c) => c.method === 'createForumTopic')).toHaveLength(CUSTOMERS);
  }, 2 * PATIENCE_MS);

  it('let only one of a /take and a /close sent to the two copies at the same moment move the chat from awaiting', async () => {
    const all = await conversations();
    // Operators answer first, through both copies: every chat is awaiting the customer.
    await Promise.all(all.map((c, i) => deliverUpdate(copies[i % 2]!, operatorUpdate(`answer for chat ${c.number}`, c.console.topicId))));
    await waitFor('every chat awaiting', async () => (await conversations()).every((c) => c.status === 'awaiting'), PATIENCE_MS, 200);
    await Promise.all(all.map((c) => Promise.all([deliverUpdate(copies[0]!, operatorUpdate('/take', c.console.topicId)), deliverUpdate(copies[1]!, operatorUpdate('/close solved', c.console.topicId))])));
    await waitFor('an answer to every command', () => all.every((c) => answersIn(c.console.topicId).length === 2), PATIENCE_MS, 200);
    for (const conversation of all) {
      // Both may be accepted one after the other (taken, then closed); never both from "awaiting".
      const fromAwaiting = await db.db!.collection('conversationevents').countDocuments({ conversation: conversation._id, from: 'awaiting', 'actor.kind': 'operator', reason: { $ne: 'operator replied' } });
      const refused = answersIn(conversation.console.topicId).filter((text) => /changed by someone else just now|is closed/.test(text));
      expect({ chat: conversation.number, movedFromAwaiting: fromAwaiting }).toEqual({ chat: conversation.number, movedFromAwaiting: 1 });
      expect(refused.length).toBeLessThanOrEqual(1);
    }
    // Each answer reached its customer once.
    for (const conversation of all) expect(graph.state.sends.filter((s) => s.message.text === `answer for chat ${conversation.number}`)).toHaveLength(1);
  }, 2 * PATIENCE_MS);

  it('share the operator group’s budget: Telegram never has to refuse either copy', () => {
    expect(telegram.state.rejected429).toBe(0);
  });

  it('hand the timed jobs over when the leading copy is killed, and run them', async () => {
    const leader = await waitFor('a jobs leader', async () => (await leaderIndex()) !== undefined, PATIENCE_MS, 200).then(leaderIndex);
    const survivor = copies[1 - leader!]!;
    const [open] = await conversations();
    await deliverUpdate(survivor, operatorUpdate('/remind 1m check the refund', open!.console.topicId));
    const jobs = db.db!.collection('agendaJobs');
    await waitFor('the reminder planned', async () => (await jobs.countDocuments({ name: OPERATOR_FOLLOWUP_JOB })) === 1, PATIENCE_MS, 200);
    // Due now, and locked as the leader locks a job it runs: then the leader dies with the lock held. (Locked after
    // the kill instead, the write could land after the survivor's takeover freed the locks, when the leader ran the
    // embedded database and the survivor was still bringing it back.)
    await jobs.updateOne({ name: OPERATOR_FOLLOWUP_JOB }, { $set: { nextRunAt: new Date(), lockedAt: new Date() } });
    await copies[leader!]!.kill9();
    await waitFor('the reminder shown by the copy left', () => telegram.groupMessages().some((m) => m.text?.includes('check the refund') && m.text.includes('reminder for chat')), PATIENCE_MS, 200);
    expect(survivor.alive()).toBe(true);
  }, 3 * PATIENCE_MS);
});

/** How many customer messages appear in the topics (a relay may carry several). */
function countShown(): number {
  const shown = new Set<string>();
  for (const m of telegram.groupMessages()) for (const match of (m.text ?? '').matchAll(/message \d of customer \d+/g)) shown.add(match[0]);
  return shown.size;
}

/** The gateway's answers to the /take and /close commands in a topic. */
function answersIn(topicId: number): string[] {
  return telegram.groupMessages(topicId).map((m) => m.text ?? '').filter((text) => /took chat|closed by|changed by someone else|is closed|already/.test(text));
}

/** Which copy leads the jobs now, from the lease in the database. */
async function leaderIndex(): Promise<number | undefined> {
  const lease = await db.db!.collection('jobleases').find({ name: 'agenda' }).sort({ epoch: -1 }).limit(1).next();
  if (!lease || lease.expiresAt < new Date()) return undefined;
  const logs = await Promise.all(copies.map((copy) => copy.logLines()));
  const index = logs.findIndex((lines) => lines.some((line) => line.msg === 'became leader' && line.epoch === lease.epoch));
  return index >= 0 ? index : undefined;
}
