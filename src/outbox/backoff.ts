/** Exponential backoff with full jitter: attempt 1 waits up to 1 s, then 2, 4, ... capped at `capMs`. */
export function backoffDelay(attempt: number, { baseMs = 1000, capMs = 10 * 60_000, random = Math.random }: { baseMs?: number; capMs?: number; random?: () => number } = {}): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
