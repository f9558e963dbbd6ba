import mongoose from 'mongoose';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { startEmbeddedDatabase } from './embedded.js';
import * as models from './models/index.js';

export interface Database {
  connection: mongoose.Connection;
  /** 'external' when MONGODB_URI was given, 'embedded' when we started FerretDB ourselves. */
  kind: 'external' | 'embedded';
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

const allModels = Object.values(models).filter((value): value is mongoose.Model<any> => typeof value === 'function' && 'createIndexes' in value);

export async function connectDatabase(config: Pick<Config, 'database'>, logger: Logger): Promise<Database> {
  const embedded = config.database.uri ? undefined : await startEmbeddedDatabase({ dataDir: config.database.dataDir, dbName: 'support', logger });
  const uri = config.database.uri ?? embedded!.uri;
  mongoose.set('strictQuery', true);
  // Indexes are created explicitly below, awaited, so a failure stops the start instead of surfacing later.
  mongoose.set('autoIndex', false);
  await mongoose.connect(uri, { serverSelectionTimeoutMS: 10_000 });
  await Promise.all(allModels.map((m) => m.createIndexes()));
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
