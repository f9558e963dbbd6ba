import { LockModel } from './models/index.js';
import { isDuplicateKeyError } from './errors.js';

/**
 * Takes the lock `id` for `ttlMs`: exactly one process gets it (a unique-index insert, on MongoDB and FerretDB
 * alike). A lock whose holder died is taken over once it expired; a fresh one is never removed.
 */
export async function takeLock(id: string, holder: string, ttlMs: number): Promise<boolean> {
  const now = Date.now();
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await LockModel.create({ _id: id, holder, expiresAt: new Date(now + ttlMs) });
      return true;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    const removed = await LockModel.deleteOne({ _id: id, expiresAt: { $lte: new Date(now) } });
    if (removed.deletedCount === 0) return false;
  }
  return false;
}

export async function releaseLock(id: string, holder: string): Promise<void> {
  await LockModel.deleteOne({ _id: id, holder });
}

/** Whether someone holds the lock now (an expired one counts as free). */
export async function isLockHeld(id: string): Promise<boolean> {
  return (await LockModel.exists({ _id: id, expiresAt: { $gt: new Date() } })) !== null;
}
