import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { allModels, createIndexes } from '../../src/db/indexes.js';

export interface StoppableDatabase {
  /** The URI of its database (for a gateway process of the test's own). */
  uri(): string;
  /** A real outage: the server process stops; every operation fails until start(). */
  stop(): Promise<void>;
  /** The server comes back on the same port with the same data; the driver reconnects by itself. */
  start(): Promise<void>;
}

/**
 * For tests that take the database down and up again: an embedded FerretDB of their own (the shared server
 * serves other test files), with mongoose connected to it with short timeouts, so an outage shows in a moment and
 * what the code under test does about it is what waits, not the driver. Emptied before each test. Used by a whole
 * file, or by one describe block with `returnTo`: mongoose goes back to the file's database afterwards. A test
 * that stops it must start it again before it ends. Always FerretDB, also when MONGODB_URI names a server.
 */
export function useStoppableDatabase(name: string, options: { returnTo?: { uri(): string } } = {}): StoppableDatabase {
  let dataDir = '';
  let server: EmbeddedDatabase | undefined;
  let port = 0;
  let stopping: Promise<void> | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), `${name}-db-`));
    server = await startEmbeddedDatabase({ dataDir, dbName: name });
    port = server.port;
    await mongoose.disconnect();
    mongoose.set('autoIndex', false);
    await mongoose.connect(server.uri, { serverSelectionTimeoutMS: 500, heartbeatFrequencyMS: 500 });
    await createIndexes();
  });
  beforeEach(async () => {
    await Promise.all(allModels.map((m) => m.deleteMany({})));
  });
  afterAll(async () => {
    await mongoose.disconnect();
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    if (options.returnTo) await mongoose.connect(options.returnTo.uri());
  });
  return {
    uri: () => `mongodb://127.0.0.1:${port}/${name}`,
    async stop() {
      const running = server;
      server = undefined;
      stopping = running?.stop();
      await stopping;
    },
    async start() {
      // A stop still in progress (FerretDB may take seconds with clients connected) must end first.
      await stopping;
      server ??= await startEmbeddedDatabase({ dataDir, dbName: name, port });
    },
  };
}
