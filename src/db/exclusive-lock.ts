import { LockModel } from './models/index.js';
import { isDuplicateKeyError } from './errors.js';

/** Who holds a lock: a gateway (its instance id) and, within it, one attempt. */
export interface LockHolder {
  instance: string;
  attempt: string;
}

/**
 * Takes the lock `id` for `ttlMs`: exactly one process gets it (a unique-index insert, on MongoDB and FerretDB
 * alike). A lock whose holder died is taken over once it expired; a fresh one is never removed.
 */
export async function takeLock(id: string, holder: LockHolder, ttlMs: number): Promise<boolean> {
  const now = Date.now();
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await LockModel.create({ _id: id, holder: holder.attempt, instance: holder.instance, expiresAt: new Date(now + ttlMs) });
      return true;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    const removed = await LockModel.deleteOne({ _id: id, expiresAt: { $lte: new Date(now) } });
    if (removed.deletedCount === 0) return false;
  }
  return false;
}

export async function releaseLock(id: string, holder: LockHolder): Promise<void> {
  await LockModel.deleteOne({ _id: id, holder: holder.attempt });
}

/**
 * Frees the locks a previous run of this gateway left when it died (same instance id): called at start, before
 * this run takes any, so what they guarded goes on at once instead of after their expiry. Returns how many.
 */
export async function releaseLocksLeftBy(instance: string): Promise<number> {
  return (await LockModel.deleteMany({ instance })).deletedCount;
}

/** Whether someone holds the lock now (an expired one counts as free). */
export async function isLockHeld(id: string): Promise<boolean> {
  return (await LockModel.exists({ _id: id, expiresAt: { $gt: new Date() } })) !== null;
}
