import { LockModel } from '../db/models/index.js';
import { isDuplicateKeyError } from '../db/errors.js';

const LOCK_ID = 'auto-assignment';

/**
 * Runs `work` while this process holds the auto-assignment lock, so that two gateway copies never count an
 * operator's open chats at the same time and both give them one more (which would pass the cap). Returns false
 * without running it when another process holds the lock; a lock whose holder died is taken over after `ttlMs`.
 */
export async function withAssignmentLock(holder: string, ttlMs: number, work: () => Promise<void>): Promise<boolean> {
  if (!(await take(holder, ttlMs))) return false;
  try {
    await work();
  } finally {
    await LockModel.deleteOne({ _id: LOCK_ID, holder });
  }
  return true;
}

async function take(holder: string, ttlMs: number): Promise<boolean> {
  const now = Date.now();
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await LockModel.create({ _id: LOCK_ID, holder, expiresAt: new Date(now + ttlMs) });
      return true;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    // Only an expired lock is removed: a fresh one another process took meanwhile does not match.
    const removed = await LockModel.deleteOne({ _id: LOCK_ID, expiresAt: { $lte: new Date(now) } });
    if (removed.deletedCount === 0) return false;
  }
  return false;
}
