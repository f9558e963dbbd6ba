// Inbound pipeline benchmark, for 1, 100 and 10,000 conversations:
// - sustained messages/s with BENCH_INBOX_IN_FLIGHT (100) messages in flight, spread over the conversations,
//   beside the same database's raw single-document insert rate at the same concurrency (the ratio is the
//   figure to compare), in BENCH_INBOX_ROUNDS turns of each. One more row sends one conversation's messages
//   one at a time, each after the previous one was handled: there nothing can be batched, so its rate is
//   1 / the latency of one message;
// - p50/p99 latency from InboundMessage to queued outbox item at two steady arrival rates, 100 messages/s and
//   half the sustained rate (at saturation, latency only measures the queue: in-flight / throughput).
// BENCH_INBOX_CONVERSATIONS (default 1,100,10000) picks the rows.
// Run: npm run bench (or npx tsx bench/inbox.ts). Uses MONGODB_URI when set, else an embedded FerretDB.
import mongoose from 'mongoose';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startEmbeddedDatabase } from '../src/db/embedded.js';
import { connectOptions } from '../src/db/connect.js';
import { allModels, createIndexes } from '../src/db/indexes.js';
import { createInbox, type Inbox } from '../src/inbox.js';
import type { InboundMessage } from '../src/domain.js';
import { forEachLimited } from '../src/util/for-each-limited.js';

const MESSAGES = Number(process.env.BENCH_INBOX_MESSAGES ?? 3000);
const MAX_IN_FLIGHT = Number(process.env.BENCH_INBOX_IN_FLIGHT ?? 100);
const ROUNDS = Number(process.env.BENCH_INBOX_ROUNDS ?? 4);
const FIXED_RATE = 100;
const PACED_SECONDS = 10;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function message(chat: number, n: number): InboundMessage {
  return { channel: 'webchat', externalChatId: `visitor-${chat}`, externalMessageId: `bench-${chat}-${n}-${Math.random().toString(36).slice(2)}`, profile: { name: `Visitor ${chat}` }, text: `message ${n} from visitor ${chat}: where is my order?`, attachments: [], sentAt: new Date() };
}

/** Latencies (sorted, ms) of messages sent at a steady `rate` for PACED_SECONDS, round-robin over the conversations. */
async function pacedLatencies(inbox: Inbox, rate: number, conversations: number, firstNumber: number): Promise<number[]> {
  const count = Math.round(rate * PACED_SECONDS);
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const sent = performance.now();
    pending.push(inbox.receive(message(i % conversations, firstNumber + i)).then(() => void latencies.push(performance.now() - sent)));
  }
  await Promise.all(pending);
  return latencies.sort((a, b) => a - b);
}

async function rawInsertRate(count: number, inFlight: number): Promise<number> {
  const collection = mongoose.connection.db!.collection('bench_raw');
  const docs = Array.from({ length: count }, (_, i) => message(i % 100, i));
  const started = performance.now();
  await forEachLimited(docs, inFlight, async (doc) => {
    await collection.insertOne({ ...doc });
  });
  return count / ((performance.now() - started) / 1000);
}

async function main() {
  let dataDir: string | undefined;
  let embedded: Awaited<ReturnType<typeof startEmbeddedDatabase>> | undefined;
  let uri = process.env.MONGODB_URI;
  if (!uri) {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-db-'));
    embedded = await startEmbeddedDatabase({ dataDir, dbName: 'bench' });
    uri = embedded.uri;
  }
  // The gateway's own connection settings: the pool size decides how FerretDB's SQLite writers queue.
  await mongoose.connect(uri, connectOptions(embedded ? 'embedded' : 'external'));
  await mongoose.connection.db!.dropDatabase();
  await createIndexes();
  const inbox = createInbox({ reopenWindowMs: 86_400_000, logger: pino({ level: 'silent' }) });
  console.log(`database: ${embedded ? 'embedded FerretDB 1.24 (SQLite)' : 'MONGODB_URI'}; ${MESSAGES} messages per row, in ${ROUNDS} turns alternating with as many raw inserts`);
  console.log(`conversations | in flight | pipeline msg/s | raw insert/s |  ratio | p50 / p99 ms at ${FIXED_RATE} msg/s | p50 / p99 ms at half the pipeline rate`);

  const conversationCounts = (process.env.BENCH_INBOX_CONVERSATIONS ?? '1,100,10000').split(',').map(Number);
  const rows = [...(conversationCounts.includes(1) ? [{ conversations: 1, inFlight: 1 }] : []), ...conversationCounts.map((conversations) => ({ conversations, inFlight: MAX_IN_FLIGHT }))];
  for (const { conversations, inFlight } of rows) {
    await Promise.all(allModels.map((m) => m.deleteMany({})));
    await mongoose.connection.db!.collection('bench_raw').deleteMany({});
    // Open the conversations first: the figure is for messages into conversations that exist.
    await forEachLimited(Array.from({ length: conversations }, (_, i) => i), MAX_IN_FLIGHT, async (chat) => {
      await inbox.receive(message(chat, 0));
    });
    // Pipeline and raw inserts take turns, so both meet the database in the same states (WAL size, checkpoints).
    let pipelineSeconds = 0;
    let rawSeconds = 0;
    const perRound = Math.ceil(MESSAGES / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      const batch = Array.from({ length: perRound }, (_, i) => message(i % conversations, round * perRound + i + 1));
      const started = performance.now();
      await forEachLimited(batch, inFlight, async (m) => {
        await inbox.receive(m);
      });
      pipelineSeconds += (performance.now() - started) / 1000;
      rawSeconds += perRound / (await rawInsertRate(perRound, inFlight));
    }
    const rate = (perRound * ROUNDS) / pipelineSeconds;
    const raw = (perRound * ROUNDS) / rawSeconds;

    const fixed = await pacedLatencies(inbox, FIXED_RATE, conversations, perRound * ROUNDS);
    const half = await pacedLatencies(inbox, rate / 2, conversations, perRound * ROUNDS + FIXED_RATE * PACED_SECONDS);
    const ms = (sorted: number[]) => `${percentile(sorted, 50).toFixed(1)} / ${percentile(sorted, 99).toFixed(1)}`;
    console.log(
      `${String(conversations).padStart(13)} | ${String(inFlight).padStart(9)} | ${rate.toFixed(0).padStart(14)} | ${raw.toFixed(0).padStart(12)} | ${((rate / raw) * 100).toFixed(1).padStart(5)}% | ${ms(fixed).padStart(25)} | ${(rate / 2).toFixed(0)} msg/s: ${ms(half)}`,
    );
  }
  await mongoose.connection.db!.dropDatabase();
  await mongoose.disconnect();
  await embedded?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}

await main();
