import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../src/db/embedded.js';
import { createIndexes } from '../src/db/indexes.js';
import { ConversationModel, MessageModel } from '../src/db/models/index.js';
import { createInbox } from '../src/inbox.js';
import { storeWithRetry } from '../src/inbound-retry.js';
import type { ChannelSink } from '../src/domain.js';
import { inbound } from './support/factories.js';
import { testLogger } from './support/logger.js';

// This file takes its own database server down and up again, so it runs one of its own instead of the shared one.
let dataDir: string;
let server: EmbeddedDatabase;
let port: number;
const inbox = createInbox({ reopenWindowMs: 3600_000, logger: testLogger });
const sink: ChannelSink = { inbound: async (message) => void (await inbox.receive(message)) };

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'inbound-retry-'));
  server = await startEmbeddedDatabase({ dataDir, dbName: 'retry' });
  port = server.port;
  // Fail fast while the server is away, so the retries are what waits, not the driver.
  await mongoose.connect(server.uri, { serverSelectionTimeoutMS: 300, heartbeatFrequencyMS: 500 });
  await createIndexes();
});
afterAll(async () => {
  await mongoose.disconnect();
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('storing a customer message while the database is down', () => {
  it('keeps trying until the database is back, then stores the message once', async () => {
    await server.stop();
    const message = inbound({ text: 'sent during the outage' });
    const storing = storeWithRetry(sink, message, testLogger, { minTimeoutMs: 100, maxTimeoutMs: 300 });
    await new Promise((r) => setTimeout(r, 1500));
    server = await startEmbeddedDatabase({ dataDir, dbName: 'retry', port });
    await storing;
    expect(await MessageModel.find({ direction: 'in', text: 'sent during the outage' }).countDocuments()).toBe(1);
    expect(await ConversationModel.countDocuments()).toBe(1);
  });

  it('fails at once, without retrying, when the database refuses the message itself', async () => {
    const broken = inbound({ channel: 'no-such-channel' as never });
    const started = Date.now();
    await expect(storeWithRetry(sink, broken, testLogger, { minTimeoutMs: 1000 })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
