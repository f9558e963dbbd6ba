/**
 * /stats over a large history: generates conversations and messages spread over N days, then times
 * `/stats 30d` and `/stats 90d` end to end (query + figures + text + chart PNG), as the command runs them.
 *
 *   npx tsx bench/stats.ts                                   # 100,000 conversations, 1,000,000 messages, 90 days
 *   BENCH_STATS_CONVERSATIONS=10000 npx tsx bench/stats.ts   # quick run (10 messages per conversation)
 *
 * After generating, `rebuildFacts()` fills the /stats read model (six-hour buckets); its time is printed apart.
 *
 * Database: MONGODB_URI when set (a `bench_stats` database on it, dropped afterwards), else an embedded
 * FerretDB (SQLite) on a temporary directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import mongoose, { Types } from 'mongoose';
import { loadConfig } from '../src/config.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../src/db/embedded.js';
import { createIndexes } from '../src/db/indexes.js';
import { ConversationModel, CustomerModel, MessageModel, OperatorModel } from '../src/db/models/index.js';
import type { ChannelKind, CloseReason } from '../src/domain.js';
import { rebuildFacts } from '../src/stats/facts-store.js';
import { parseStatsArgs } from '../src/stats/period.js';
import { buildStatsAnswer } from '../src/stats/report.js';
import { prng } from './prng.js';

export interface StatsBenchOptions {
  conversations: number;
  messagesPerConversation: number;
  days: number;
  runs: number;
}

export interface StatsBenchResult {
  command: string;
  runsMs: number[];
  medianMs: number;
  opened: number;
  closed: number;
  pngBytes: number;
  /** Of the last run: query + figures + text, and chart. */
  figuresMs: number;
  chartMs: number;
}

const BATCH = 5000;
const CHANNELS: Array<[ChannelKind, number]> = [
  ['telegram', 0.4],
  ['webchat', 0.25],
  ['whatsapp', 0.15],
  ['email', 0.1],
  ['vk', 0.06],
  ['messenger', 0.04],
];
const REASONS: Array<[CloseReason, number]> = [
  ['solved', 0.7],
  ['no_response', 0.2],
  ['transferred_to_specialist', 0.05],
  ['other', 0.05],
];


function pick<T>(random: () => number, weighted: Array<[T, number]>): T {
  let r = random();
  for (const [value, weight] of weighted) if ((r -= weight) < 0) return value;
  return weighted[weighted.length - 1]![0];
}

/** Log-normal seconds around `median` (spread: sigma of the log). */
function logNormal(random: () => number, median: number, sigma: number): number {
  const gaussian = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Math.max(1, Math.round(median * Math.exp(sigma * gaussian)));
}

/** Office-hours-heavy creation times over the last `days` days. */
function createdAt(random: () => number, now: number, days: number): Date {
  const day = Math.floor(random() * days);
  const hour = random() < 0.8 ? 8 + random() * 11 : random() * 24;
  const at = now - day * 86_400_000 - (now % 86_400_000) + hour * 3_600_000;
  return new Date(Math.min(at, now - 60_000));
}

export async function generateHistory(options: StatsBenchOptions, log: (line: string) => void): Promise<void> {
  const random = prng(42);
  const now = Date.now();
  const operators = await OperatorModel.insertMany(
    Array.from({ length: 20 }, (_, i) => ({ telegramUserId: 700_000 + i, name: `Operator ${i + 1}`, username: `bench_op${i + 1}`, role: i < 2 ? 'supervisor' : 'operator' })),
  );
  const started = Date.now();
  let messages = 0;
  for (let offset = 0; offset < options.conversations; offset += BATCH) {
    const size = Math.min(BATCH, options.conversations - offset);
    const customers: Record<string, unknown>[] = [];
    const conversations: Record<string, unknown>[] = [];
    const batchMessages: Record<string, unknown>[] = [];
    for (let i = 0; i < size; i++) {
      const n = offset + i + 1;
      const channel = pick(random, CHANNELS);
      const customerId = new Types.ObjectId();
      const conversationId = new Types.ObjectId();
      const created = createdAt(random, now, options.days);
      const owner = operators[Math.floor(random() * operators.length)]!._id;
      const firstResponse = random() < 0.97 ? logNormal(random, 180, 1) : undefined;
      const age = (now - created.getTime()) / 1000;
      const resolution = firstResponse !== undefined ? firstResponse + logNormal(random, 3600, 1.2) : logNormal(random, 86_400, 0.5);
      const closed = resolution < age && random() < 0.97;
      const customerMessages = Math.max(1, Math.round(options.messagesPerConversation / 2 + (random() - 0.5) * 4));
      const operatorMessages = Math.max(0, options.messagesPerConversation - customerMessages);
      customers.push({ _id: customerId, channel, externalChatId: `bench-${n}`, name: `Customer ${n}`, blocked: false, unreachable: false, createdAt: created, updatedAt: created });
      const closedAt = closed ? new Date(created.getTime() + resolution * 1000) : undefined;
      conversations.push({
        _id: conversationId,
        number: n,
        customer: customerId,
        channel,
        status: closed ? (age > 30 * 86_400 ? 'archived' : 'closed') : pick(random, [['new', 0.2], ['active', 0.3], ['awaiting', 0.45], ['transferred', 0.05]] as Array<[string, number]>),
        openKey: closed ? `closed:${conversationId}` : String(customerId),
        owner: firstResponse !== undefined ? owner : undefined,
        priority: 'normal',
        tags: [],
        ...(firstResponse !== undefined ? { firstResponseAt: new Date(created.getTime() + firstResponse * 1000), firstResponseSeconds: firstResponse } : {}),
        ...(closed ? { closedAt, closeReason: pick(random, REASONS), resolutionSeconds: resolution } : {}),
        ...(closed && random() < 0.35 ? { rating: { score: pick(random, [[5, 0.5], [4, 0.25], [3, 0.1], [2, 0.05], [1, 0.1]] as Array<[number, number]>), at: closedAt } } : {}),
        counts: { in: customerMessages, out: operatorMessages, notes: 0 },
        lastActivityAt: closedAt ?? created,
        createdAt: created,
        updatedAt: closedAt ?? created,
      });
      for (let m = 0; m < customerMessages + operatorMessages; m++) {
        const inbound = m < customerMessages;
        const at = new Date(created.getTime() + m * 60_000);
        batchMessages.push({
          conversation: conversationId,
          channel,
          direction: inbound ? 'in' : 'out',
          author: inbound ? { kind: 'customer' } : { kind: 'operator', operatorId: owner, name: 'Operator' },
          text: inbound ? `question ${m} about order ${n}` : `answer ${m} for order ${n}`,
          attachments: [],
          dedupeKey: `${channel}:bench-${n}-${m}`,
          consoleMessageIds: [],
          meta: [],
          createdAt: at,
          updatedAt: at,
        });
      }
    }
    await CustomerModel.collection.insertMany(customers, { ordered: false });
    await ConversationModel.collection.insertMany(conversations, { ordered: false });
    for (let m = 0; m < batchMessages.length; m += BATCH) await MessageModel.collection.insertMany(batchMessages.slice(m, m + BATCH), { ordered: false });
    messages += batchMessages.length;
    const done = offset + size;
    if (done % 20_000 === 0 || done === options.conversations) {
      log(`  generated ${done.toLocaleString('en')} conversations, ${messages.toLocaleString('en')} messages (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
  }
}

/** Times one /stats command end to end the way commands/stats.ts runs it. */
export async function timeStats(args: string, runs: number): Promise<StatsBenchResult> {
  const config = loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent', REPORT_TIMEZONE: 'UTC', WEBCHAT_ENABLED: 'false' });
  const runsMs: number[] = [];
  let last: Awaited<ReturnType<typeof buildStatsAnswer>> | undefined;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    last = await buildStatsAnswer(parseStatsArgs(args, { timezone: config.stats.timezone }), { config });
    runsMs.push(Math.round(performance.now() - started));
  }
  const sorted = [...runsMs].sort((a, b) => a - b);
  return { command: `/stats ${args}`, runsMs, medianMs: sorted[sorted.length >> 1]!, opened: last!.report.opened, closed: last!.report.closed, pngBytes: last!.chart?.length ?? 0, ...last!.timings };
}

export async function runStatsBenchmark(options: StatsBenchOptions, log: (line: string) => void = console.log): Promise<StatsBenchResult[]> {
  let embedded: EmbeddedDatabase | undefined;
  let dataDir: string | undefined;
  let uri = process.env.MONGODB_URI;
  if (uri) {
    const url = new URL(uri);
    url.pathname = '/bench_stats';
    uri = url.toString();
  } else {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-stats-'));
    embedded = await startEmbeddedDatabase({ dataDir, dbName: 'bench_stats' });
    uri = embedded.uri;
  }
  log(`stats benchmark on ${embedded ? 'embedded FerretDB (SQLite)' : 'MONGODB_URI'}: ${options.conversations.toLocaleString('en')} conversations x ${options.messagesPerConversation} messages over ${options.days} days`);
  try {
    mongoose.set('autoIndex', false);
    await mongoose.connect(uri);
    await mongoose.connection.db!.dropDatabase();
    await createIndexes();
    const generationStarted = Date.now();
    await generateHistory(options, log);
    log(`  generation took ${((Date.now() - generationStarted) / 1000).toFixed(1)} s`);
    // Generated with insertMany behind the conversation code's back: fill the /stats read model (buckets)
    // as the daily rebuild job does. Timed apart from /stats, which reads only the buckets.
    const rebuildStarted = performance.now();
    const rebuilt = await rebuildFacts();
    log(`  rebuildFacts: ${rebuilt.conversations.toLocaleString('en')} conversations into ${rebuilt.buckets.toLocaleString('en')} buckets in ${((performance.now() - rebuildStarted) / 1000).toFixed(1)} s`);

    const results: StatsBenchResult[] = [];
    for (const args of ['30d', '90d']) {
      const result = await timeStats(args, options.runs);
      results.push(result);
      log(`${result.command}: median ${result.medianMs} ms (runs ${result.runsMs.join(', ')} ms); ${result.opened.toLocaleString('en')} opened, ${result.closed.toLocaleString('en')} closed, chart ${Math.round(result.pngBytes / 1024)} KiB; last run: query+figures+text ${result.figuresMs} ms, chart ${result.chartMs} ms`);
    }
    const thirty = results[0]!;
    log(`goal /stats 30d under 2000 ms: ${thirty.medianMs < 2000 ? 'met' : 'NOT met'} (${thirty.medianMs} ms)`);
    await mongoose.connection.db!.dropDatabase();
    return results;
  } finally {
    await mongoose.disconnect();
    await embedded?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const conversations = Number(process.env.BENCH_STATS_CONVERSATIONS ?? 100_000);
  await runStatsBenchmark({
    conversations,
    messagesPerConversation: Number(process.env.BENCH_STATS_MESSAGES_PER_CONVERSATION ?? 10),
    days: Number(process.env.BENCH_STATS_DAYS ?? 90),
    runs: Number(process.env.BENCH_STATS_RUNS ?? 3),
  });
}
