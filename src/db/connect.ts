import mongoose from 'mongoose';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { startEmbeddedDatabase } from './embedded.js';
import { createIndexes } from './indexes.js';

export interface Database {
  connection: mongoose.Connection;
  /** 'external' when MONGODB_URI was given, 'embedded' when we started FerretDB ourselves. */
  kind: 'external' | 'embedded';
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Connection options for the database. The embedded FerretDB writes to SQLite, which lets one writer in at a
 * time; a writer that finds it busy sleeps 1 to 100 ms in SQLite's busy handler before trying again, so a big
 * pool mostly sleeps. Ten connections keep FerretDB busy without that (the inbox at 100 conversations, before
 * its reads were batched: 260 messages/s with the driver's default pool of 100, 377 with 10). With MONGODB_URI
 * the driver's defaults apply; for a FerretDB/SQLite server, add `maxPoolSize=10` to the URI.
 */
export function connectOptions(kind: Database['kind']): mongoose.ConnectOptions {
  return { serverSelectionTimeoutMS: 10_000, ...(kind === 'embedded' ? { maxPoolSize: 10 } : {}) };
}

export async function connectDatabase(config: Pick<Config, 'database'>, logger: Logger): Promise<Database> {
  const embedded = config.database.uri ? undefined : await startEmbeddedDatabase({ dataDir: config.database.dataDir, dbName: 'support', logger });
  const uri = config.database.uri ?? embedded!.uri;
  mongoose.set('strictQuery', true);
  // Indexes are created explicitly below, awaited, so a failure stops the start instead of surfacing later.
  mongoose.set('autoIndex', false);
  await mongoose.connect(uri, connectOptions(embedded ? 'embedded' : 'external'));
  await createIndexes();
  logger.info({ database: mongoose.connection.name, kind: embedded ? 'embedded' : 'external' }, 'database connected, indexes ready');
  return {
    connection: mongoose.connection,
    kind: embedded ? 'embedded' : 'external',
    async ping() {
      try {
        await mongoose.connection.db!.admin().ping();
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await mongoose.disconnect();
      await embedded?.stop();
    },
  };
}
