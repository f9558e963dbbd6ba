import { CounterModel } from './models/index.js';
import { isDuplicateKeyError } from './errors.js';

/**
 * Inserts a document numbered one past the counter, retrying with the next number when a unique index
 * refuses it (another process took it). The counter is read and written by _id only; it is a hint that the
 * unique index makes safe, so a lagging counter costs a retry, never a duplicate.
 */
export async function insertWithNextNumber<T>(counter: string, insert: (n: number) => Promise<T>, maxAttempts = 100): Promise<T> {
  const current = await CounterModel.findById(counter).lean();
  let n = (current?.value ?? 0) + 1;
  for (let attempt = 0; attempt < maxAttempts; attempt++, n++) {
    try {
      const result = await insert(n);
      await CounterModel.updateOne({ _id: counter }, { $max: { value: n } }, { upsert: true }).catch((error: unknown) => {
        if (!isDuplicateKeyError(error)) throw error;
      });
      return result;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }
  throw new Error(`counter ${counter}: no free number after ${maxAttempts} attempts`);
}
