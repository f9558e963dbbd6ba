// Inbound pipeline benchmark, for 1, 100 and 10,000 conversations:
// - sustained messages/s with up to BENCH_INBOX_IN_FLIGHT messages in flight, beside the same database's raw
//   single-document insert rate at the same concurrency (the ratio is the figure to compare);
// - p50/p99 latency from InboundMessage to queued outbox item at a steady arrival rate of half the sustained
//   rate (at saturation, latency only measures the queue: in-flight / throughput).
// Run: npm run bench (or npx tsx bench/inbox.ts). Uses MONGODB_URI when set, else an embedded FerretDB.
import mongoose from 'mongoose';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startEmbeddedDatabase } from '../src/db/embedded.js';
import * as models from '../src/db/models/index.js';
import { createInbox } from '../src/inbox.js';
import type { InboundMessage } from '../src/domain.js';
import { forEachLimited } from '../src/util/for-each-limited.js';

const MESSAGES = Number(process.env.BENCH_INBOX_MESSAGES ?? 3000);
const MAX_IN_FLIGHT = Number(process.env.BENCH_INBOX_IN_FLIGHT ?? 100);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function message(chat: number, n: number): InboundMessage {
  return { channel: 'webchat', externalChatId: `visitor-${chat}`, externalMessageId: `bench-${chat}-${n}-${Math.random().toString(36).slice(2)}`, profile: { name: `Visitor ${chat}` }, text: `message ${n} from visitor ${chat}: where is my order?`, attachments: [], sentAt: new Date() };
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
  await mongoose.connect(uri, { maxPoolSize: 200 });
  await mongoose.connection.db!.dropDatabase();
  await Promise.all(Object.values(models).filter((m): m is mongoose.Model<any> => typeof m === 'function' && 'createIndexes' in m).map((m) => m.createIndexes()));
  const inbox = createInbox({ reopenWindowMs: 86_400_000, logger: pino({ level: 'silent' }) });
  console.log(`database: ${embedded ? 'embedded FerretDB 1.24 (SQLite)' : 'MONGODB_URI'}; ${MESSAGES} messages per run, at most ${MAX_IN_FLIGHT} in flight`);
  console.log('conversations | pipeline msg/s | raw insert/s | ratio | paced at msg/s | p50 ms | p99 ms');

  for (const conversations of [1, 100, 10_000]) {
    await Promise.all(Object.values(models).filter((m): m is mongoose.Model<any> => typeof m === 'function' && 'deleteMany' in m).map((m) => m.deleteMany({})));
    await mongoose.connection.db!.collection('bench_raw').deleteMany({});
    // Open the conversations first: the figure is for messages into conversations that exist.
    await forEachLimited(Array.from({ length: conversations }, (_, i) => i), MAX_IN_FLIGHT, async (chat) => {
      await inbox.receive(message(chat, 0));
    });
    const inFlight = Math.min(conversations, MAX_IN_FLIGHT);
    const batch = Array.from({ length: MESSAGES }, (_, i) => message(i % conversations, i + 1));
    const started = performance.now();
    await forEachLimited(batch, inFlight, async (m) => {
      await inbox.receive(m);
    });
    const rate = MESSAGES / ((performance.now() - started) / 1000);
    const raw = await rawInsertRate(MESSAGES, inFlight);

    // Paced: one message every 1/(rate/2) s, round-robin over the conversations, each timed on its own.
    const paced = rate / 2;
    const pacedCount = Math.min(MESSAGES, Math.round(paced * 10));
    const latencies: number[] = [];
    const pending: Promise<void>[] = [];
    const t0 = performance.now();
    for (let i = 0; i < pacedCount; i++) {
      const due = t0 + (i * 1000) / paced;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const m = message(i % conversations, MESSAGES + i + 1);
      const sent = performance.now();
      pending.push(inbox.receive(m).then(() => void latencies.push(performance.now() - sent)));
    }
    await Promise.all(pending);
    latencies.sort((a, b) => a - b);
    console.log(
      `${String(conversations).padStart(13)} | ${rate.toFixed(0).padStart(14)} | ${raw.toFixed(0).padStart(12)} | ${((rate / raw) * 100).toFixed(1).padStart(4)}% | ${paced.toFixed(0).padStart(14)} | ${percentile(latencies, 50).toFixed(1).padStart(6)} | ${percentile(latencies, 99).toFixed(1).padStart(6)}`,
    );
  }
  await mongoose.connection.db!.dropDatabase();
  await mongoose.disconnect();
  await embedded?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}

await main();
