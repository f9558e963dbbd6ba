import type { Document, Model } from 'mongoose';
import { createGroupCommit, type Waiting } from '../util/group-commit.js';
import { writeErrorToError } from './errors.js';

type Inserter = Pick<Model<unknown>, 'insertMany'>;

/**
 * Inserts with group commit (util/group-commit.ts), as one unordered insertMany per batch. Each caller gets its own
 * result: its document, or the error that refused it (a duplicate key, a failed validation) while the others
 * are stored.
 */
export function createInsertBatcher<D extends Document>(model: Inserter, maxBatch = 200): (doc: D) => Promise<D> {
  return createGroupCommit<D, D>((batch) => insertBatch(model, batch), maxBatch);
}

async function insertBatch<D extends Document>(model: Inserter, batch: Waiting<D, D>[]): Promise<void> {
  const docs = batch.map((w) => w.item);
  try {
    await model.insertMany(docs, { ordered: false, throwOnValidationError: true });
    batch.forEach((w) => w.resolve(w.item));
  } catch (error) {
    // Some documents refused, one by one (a duplicate key, a failed validation): mongoose lists, per document,
    // the stored document or what refused it. It fills that list for any error, so it is read only for these.
    const results = (error as { results?: unknown[] }).results;
    if (results && refusedOneByOne(error)) return batch.forEach((w, i) => (results[i] === w.item ? w.resolve(w.item) : w.reject(writeErrorToError(results[i]))));
    if (batch.length === 1) return batch[0]!.reject(error);
    // The batch failed as a whole (one document too big to send, the database unreachable): each document then
    // goes alone, so one caller's problem is not everyone's.
    for (const waiting of batch) await insertBatch(model, [waiting]);
  }
}

function refusedOneByOne(error: unknown): boolean {
  const { name, writeErrors } = error as { name?: string; writeErrors?: unknown[] };
  return name === 'MongooseBulkWriteError' || (Array.isArray(writeErrors) && writeErrors.length > 0);
}
