import type { Document, Model } from 'mongoose';

interface Waiting<D> {
  doc: D;
  resolve: (doc: D) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for one collection: an insert made while an earlier one is still on its way waits for it and
 * then goes out together with every other insert that arrived meanwhile, as one unordered insertMany. FerretDB
 * commits an insert command as one SQLite transaction, so fifty documents cost little more than one; an insert
 * made when nothing is in flight goes out at once, alone. Each caller gets its own result: its document, or
 * the error that refused it (a duplicate key, a failed validation) while the others are stored.
 */
export function createInsertBatcher<D extends Document>(model: Pick<Model<unknown>, 'insertMany'>, maxBatch = 200): (doc: D) => Promise<D> {
  let waiting: Waiting<D>[] = [];
  let flushing = false;

  async function flush(): Promise<void> {
    flushing = true;
    while (waiting.length > 0) {
      const batch = waiting.slice(0, maxBatch);
      waiting = waiting.slice(batch.length);
      await insertBatch(model, batch);
    }
    flushing = false;
  }

  return (doc) =>
    new Promise((resolve, reject) => {
      waiting.push({ doc, resolve, reject });
      if (!flushing) void flush();
    });
}

async function insertBatch<D extends Document>(model: Pick<Model<unknown>, 'insertMany'>, batch: Waiting<D>[]): Promise<void> {
  const docs = batch.map((w) => w.doc);
  try {
    await model.insertMany(docs, { ordered: false, throwOnValidationError: true });
    batch.forEach((w) => w.resolve(w.doc));
  } catch (error) {
    // Some documents refused, one by one (a duplicate key, a failed validation): mongoose lists, per document,
    // the stored document or what refused it. It fills that list for any error, so it is read only for these.
    const results = (error as { results?: unknown[] }).results;
    if (results && refusedOneByOne(error)) return batch.forEach((w, i) => (results[i] === w.doc ? w.resolve(w.doc) : w.reject(asError(results[i]))));
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

/** The driver's per-document WriteError is not an Error; give callers one, keeping its code (11000...). */
function asError(result: unknown): Error {
  if (result instanceof Error) return result;
  const writeError = result as { code?: number; errmsg?: string };
  return Object.assign(new Error(writeError.errmsg ?? 'insert refused'), { code: writeError.code });
}
