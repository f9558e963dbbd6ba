import { releaseLock, takeLock, type LockHolder } from '../db/exclusive-lock.js';

const LOCK_ID = 'auto-assignment';

/**
 * Runs `work` while this process holds the auto-assignment lock, so that two gateway copies never count an
 * operator's open chats at the same time and both give them one more (which would pass the cap). Returns false
 * without running it when another process holds the lock; a lock whose holder died is taken over after `ttlMs`.
 */
export async function withAssignmentLock(holder: LockHolder, ttlMs: number, work: () => Promise<void>): Promise<boolean> {
  if (!(await takeLock(LOCK_ID, holder, ttlMs))) return false;
  try {
    await work();
  } finally {
    await releaseLock(LOCK_ID, holder);
  }
  return true;
}
