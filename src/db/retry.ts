import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '../outbox/backoff.js';
import { isDatabaseUnavailable } from './errors.js';

export interface UntilDatabaseAnswersOptions {
  /** Gives up (throwing the last error) once this aborts: the process is stopping. */
  signal?: AbortSignal;
  onRetry?: (error: unknown, attempt: number) => void;
}

/**
 * Runs `work` again while the database is unreachable, with backoff, until it succeeds or fails for another
 * reason. For writes that record what already happened outside (a message sent, a topic created): giving up on
 * them would make the next attempt do it twice.
 */
export async function untilDatabaseAnswers<T>(work: () => Promise<T>, options: UntilDatabaseAnswersOptions = {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isDatabaseUnavailable(error) || options.signal?.aborted) throw error;
      options.onRetry?.(error, attempt);
      await sleep(backoffDelay(attempt, { baseMs: 250, capMs: 10_000 }), undefined, { signal: options.signal }).catch(() => undefined);
    }
  }
}
