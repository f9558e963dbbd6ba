// The operator group's capacity: how many simple conversations an hour one, two or four bots carry into one
// Telegram group, what each costs in calls by method, and how long a customer's message waits for its relay
// while the group's budget is saturated.
//
// The scenario, per conversation: the customer writes, an operator answers, the customer writes again, the
// operator answers, /close solved. All conversations start at once, against the local Bot API server enforcing
// the per-bot, per-group limit with time running ten times faster (20 calls per 6 s per bot; the gateway set to
// 200 a minute). Rows: BENCH_CAPACITY_CONVERSATIONS (default 20,100) x BENCH_CAPACITY_BOTS (default 1,2,4).
// At 10x, four bots ask the gateway for 13 sends a second: on a 2-core machine with the embedded database that is
// the database's limit, not Telegram's; BENCH_CAPACITY_TIME_SCALE=4 measures the scaling with bots instead.
// The gateway runs with its default OUTBOX_POLL_INTERVAL (250 ms): every poll reads the whole queue, and at 50 ms
// those reads alone slowed four bots' burst of new chats behind 375 waiting cosmetics by 14 % on 2 cores.
// Run: npm run bench (or npx tsx bench/console-capacity.ts). Uses MONGODB_URI when set, else an embedded FerretDB.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { startGateway } from '../src/app.js';
import { startEmbeddedDatabase } from '../src/db/embedded.js';
import { OperatorModel, OutboxItemModel } from '../src/db/models/index.js';
import { scaledGroupLimit, startFakeTelegram, type FakeTelegram } from '../test/support/fake-telegram.js';

/** How much faster than real time the bench runs (BENCH_CAPACITY_TIME_SCALE, default 10). */
const TIME_SCALE = Number(process.env.BENCH_CAPACITY_TIME_SCALE ?? 10);
const REAL_LIMIT_PER_MINUTE = 20;
const GROUP_METHODS = ['createForumTopic', 'sendMessage', 'sendPhoto', 'sendDocument', 'editForumTopic', 'closeForumTopic', 'reopenForumTopic', 'setMessageReaction', 'editMessageText', 'pinChatMessage'];
const operator = { id: 2, first_name: 'Bob', username: 'bob_op' };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Resolves when `check` holds, polling the fake server's records. */
async function until(check: () => boolean, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('the scenario did not finish in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** One conversation of the scenario; pushes the latency of each customer message to its relay (ms, real time). */
async function conversation(telegram: FakeTelegram, index: number, latencies: number[]): Promise<void> {
  const customer = { id: 50_000 + index, first_name: `Customer ${index}` };
  const relayOf = (text: string) => telegram.state.sent.find((m) => m.chat_id === telegram.groupId && (m.text ?? '').includes(text));
  const customerGot = (text: string) => telegram.state.sent.some((m) => m.chat_id === customer.id && (m.text ?? '').includes(text));

  const customerWrites = async (text: string) => {
    const sentAt = Date.now();
    telegram.customerWrites(customer, { text });
    await until(() => Boolean(relayOf(text)));
    latencies.push(Date.now() - sentAt);
    return relayOf(text)!;
  };
  const operatorAnswers = async (threadId: number | undefined, replyTo: number, text: string) => {
    telegram.operatorWrites(operator, { text }, threadId ? { threadId } : { replyTo });
    await until(() => customerGot(text));
  };

  const first = await customerWrites(`question ${index}: where is my order?`);
  await operatorAnswers(first.message_thread_id, first.message_id, `answer ${index}: it ships today`);
  const second = await customerWrites(`follow-up ${index}: thanks, and the invoice?`);
  await operatorAnswers(second.message_thread_id, second.message_id, `answer ${index}: attached to the mail`);
  const before = telegram.state.sent.filter((m) => m.chat_id === customer.id).length;
  telegram.operatorWrites(operator, { text: '/close solved' }, second.message_thread_id ? { threadId: second.message_thread_id } : { replyTo: second.message_id });
  // The customer gets the closing template.
  await until(() => telegram.state.sent.filter((m) => m.chat_id === customer.id).length > before);
}

async function run(uri: string, conversations: number, bots: number) {
  const helpers = Array.from({ length: bots - 1 }, (_, i) => ({ token: `${900_000 + i}:HELPER-bench-${i}`, id: 900_000 + i, username: `bench_helper_${i}_bot`, status: 'administrator' as const, canManageTopics: true }));
  const telegram = await startFakeTelegram({ forum: true, groupLimit: scaledGroupLimit(TIME_SCALE).groupLimit, helpers });
  const database = new URL(uri);
  database.pathname = `/capacity_${conversations}_${bots}_${Date.now()}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    MONGODB_URI: database.toString(),
    TELEGRAM_BOT_TOKEN: telegram.token,
    OPERATOR_CHAT_ID: String(telegram.groupId),
    TELEGRAM_API_ROOT: telegram.apiRoot,
    TELEGRAM_HELPER_BOT_TOKENS: helpers.map((h) => h.token).join(','),
    ADMIN_TELEGRAM_IDS: '1',
    PORT: '0',
    RATE_TELEGRAM_PER_GROUP_PER_MINUTE: scaledGroupLimit(TIME_SCALE).gatewayPerMinute,
    RATE_TELEGRAM_PER_CHAT_PER_SECOND: '1000',
    DASHBOARD_INTERVAL: `${5000 / TIME_SCALE}ms`,
    TOPIC_RENAME_DELAY: `${15_000 / TIME_SCALE}ms`,
  });
  const gateway = await startGateway(config, { logger: pino({ level: 'silent' }), listen: false });
  await OperatorModel.create({ telegramUserId: operator.id, name: 'Bob', username: operator.username, role: 'operator', onDuty: true });
  const groupCalls = () => telegram.state.calls.filter((c) => GROUP_METHODS.includes(c.method) && Number(c.params.chat_id) === telegram.groupId);
  const latencies: number[] = [];
  const startedAt = Date.now();
  await Promise.all(Array.from({ length: conversations }, (_, i) => conversation(telegram, i, latencies)));
  const elapsedMs = Date.now() - startedAt;

  // A burst of new chats while the scenario's cosmetics (renames, reactions, the dashboard) still wait: how long
  // their first messages wait for their relays, against what the relays alone need (a topic and a relay each).
  // The scenario's own last words (the answers to /close) go out first, so the burst meets only cosmetics.
  while ((await OutboxItemModel.countDocuments({ route: 'console', status: 'pending', priority: { $lt: 3 } })) > 0) await new Promise((r) => setTimeout(r, 100));
  const cosmeticsWaiting = await OutboxItemModel.countDocuments({ route: 'console', status: 'pending' });
  const burst = await burstOfNewChats(telegram, conversations, BURST, 70_000);
  const burstSlots = (position: number) => Math.ceil((2 * position) / bots) * (60_000 / (REAL_LIMIT_PER_MINUTE - 1));

  // What was left (cosmetics, on budget no conversation needs any more) still goes out: it is counted too.
  const deadline = Date.now() + 900_000;
  const drained = async () => (await OutboxItemModel.countDocuments({ route: 'console', status: 'pending' })) === 0;
  while (Date.now() < deadline && !(await drained())) await new Promise((r) => setTimeout(r, 250));
  const calls = groupCalls().filter((c) => !JSON.stringify(c.params).includes(BURST) && !JSON.stringify(c.params).includes(CALM_BURST));
  // The same burst on a gateway with nothing waiting: what the relays alone need here, the gateway's own time included.
  const calmBurst = (await drained()) ? await burstOfNewChats(telegram, conversations, CALM_BURST, 80_000) : [];
  if (process.env.BENCH_CAPACITY_DUMP) for (const call of groupCalls()) console.log(call.at - startedAt, call.bot, call.method, JSON.stringify(call.params).slice(0, 140));
  const byMethod = new Map<string, number>();
  for (const call of calls) byMethod.set(call.method, (byMethod.get(call.method) ?? 0) + 1);
  const byClass = [0, 0, 0];
  for (const call of calls) byClass[classOf(call) - 1]! += 1;
  await gateway.db.connection.db?.dropDatabase();
  await gateway.stop();
  await telegram.close();
  latencies.sort((a, b) => a - b);
  return {
    perConversation: calls.length / conversations,
    byClass: byClass.map((n) => (n / conversations).toFixed(2)).join(' + '),
    byMethod: [...byMethod].map(([method, n]) => `${method} ${(n / conversations).toFixed(2)}`).join(', '),
    // Conversations finished per hour of (scaled) time, back at Telegram's real limit.
    perHour: conversations / (elapsedMs / 1000 / 3600) / TIME_SCALE,
    p50: percentile(latencies, 50) * TIME_SCALE,
    p95: percentile(latencies, 95) * TIME_SCALE,
    burstP95: percentile(burst, 95) * TIME_SCALE,
    burstIdealP95: burstSlots(Math.ceil(0.95 * burst.length)),
    calmBurstP95: calmBurst.length > 0 ? percentile(calmBurst, 95) * TIME_SCALE : undefined,
    cosmeticsWaiting,
    rejected429: telegram.state.rejected429,
  };
}

const BURST = 'Burst ';
const CALM_BURST = 'Calm burst ';

/** The priority class a call into the group was made for: 1 words, 2 alerts, 3 cosmetics. */
function classOf(call: { method: string; params: Record<string, unknown> }): number {
  if (['editForumTopic', 'closeForumTopic', 'reopenForumTopic', 'setMessageReaction', 'editMessageText', 'pinChatMessage'].includes(call.method)) return 3;
  const text = String(call.params.text ?? '');
  if (text.includes('📊 Support dashboard')) return 3;
  if (text.includes('New chat #')) return 2;
  return 1;
}

/** As many new chats as the scenario had, all at once; the wait of each first message for its relay (ms, scaled). */
async function burstOfNewChats(telegram: FakeTelegram, count: number, name: string, firstCustomerId: number): Promise<number[]> {
  const sentAt = Date.now();
  for (let i = 0; i < count; i++) telegram.customerWrites({ id: firstCustomerId + i, first_name: `${name}${i}` }, { text: `${name}${i}: is anyone there?` });
  const waits: number[] = [];
  const relayed = new Set<number>();
  await until(() => {
    for (let i = 0; i < count; i++) {
      if (relayed.has(i)) continue;
      const relay = telegram.state.sent.find((m) => m.chat_id === telegram.groupId && m.message_thread_id !== undefined && (m.text ?? '').includes(`${name}${i}: is anyone`));
      if (!relay) continue;
      relayed.add(i);
      waits.push(telegram.state.calls.find((c) => c.method === 'sendMessage' && String(c.params.text).includes(`${name}${i}: is anyone`))!.at - sentAt);
    }
    return relayed.size === count;
  });
  return waits.sort((a, b) => a - b);
}

async function main() {
  let dataDir: string | undefined;
  let embedded: Awaited<ReturnType<typeof startEmbeddedDatabase>> | undefined;
  let uri = process.env.MONGODB_URI;
  if (!uri) {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-capacity-db-'));
    embedded = await startEmbeddedDatabase({ dataDir, dbName: 'capacity' });
    uri = embedded.uri;
  }
  const conversationCounts = (process.env.BENCH_CAPACITY_CONVERSATIONS ?? '20,100').split(',').map(Number);
  const botCounts = (process.env.BENCH_CAPACITY_BOTS ?? '1,2,4').split(',').map(Number);
  console.log(`Telegram's limit per bot and group: ${REAL_LIMIT_PER_MINUTE} calls a minute, simulated ${TIME_SCALE}x faster; latencies and rates below are given back in real time.`);
  console.log('conversations | bots | calls per conversation: words + alerts + cosmetics (cosmetics spend spare budget only) | conversations per hour | relay wait p50 / p95 | burst of new chats behind the cosmetics: relay wait p95 (the same burst with nothing waiting; relays alone at full use of every slot) | 429s | calls per conversation by method');
  const oneBot = new Map<number, number>();
  for (const conversations of conversationCounts) {
    for (const bots of botCounts) {
      const r = await run(uri, conversations, bots);
      if (bots === 1) oneBot.set(conversations, r.perHour);
      const gain = bots > 1 && oneBot.has(conversations) ? ` (${(r.perHour / oneBot.get(conversations)!).toFixed(2)}x one bot)` : '';
      console.log(
        `${String(conversations).padStart(13)} | ${String(bots).padStart(4)} | ${r.byClass} = ${r.perConversation.toFixed(2)} | ${r.perHour.toFixed(0)}${gain} | ${(r.p50 / 1000).toFixed(1)} s / ${(r.p95 / 1000).toFixed(1)} s | ${(r.burstP95 / 1000).toFixed(1)} s with ${r.cosmeticsWaiting} cosmetics waiting (${r.calmBurstP95 === undefined ? 'not measured: the outbox did not drain' : `${(r.calmBurstP95 / 1000).toFixed(1)} s`}; ${(r.burstIdealP95 / 1000).toFixed(1)} s) | ${r.rejected429} | ${r.byMethod}`,
      );
    }
  }
  await mongoose.disconnect().catch(() => undefined);
  await embedded?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}

await main();
