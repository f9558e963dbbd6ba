import mongoose from 'mongoose';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { allModels, createIndexes } from '../../src/db/indexes.js';

/** The URI of a fresh database on the shared test server, unique to the calling test file. */
export function testDatabaseUri(): string {
  const base = process.env.TEST_MONGODB_URI;
  if (!base) throw new Error('TEST_MONGODB_URI is not set: run the tests through vitest (npm test)');
  const url = new URL(base);
  url.pathname = `/t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  return url.toString();
}

/** Connects mongoose to a database of this file's own, with indexes, emptied before each test. */
export function useTestDatabase(): { uri: () => string } {
  let uri = '';
  beforeAll(async () => {
    uri = testDatabaseUri();
    mongoose.set('autoIndex', false);
    await mongoose.connect(uri);
    await createIndexes();
  });
  beforeEach(async () => {
    await Promise.all(allModels.map((m) => m.deleteMany({})));
  });
  afterAll(async () => {
    await mongoose.connection.db?.dropDatabase().catch(() => undefined);
    await mongoose.disconnect();
  });
  return { uri: () => uri };
}
