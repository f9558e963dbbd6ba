/** One call waiting for its batch: what it asked for, and how to answer it. */
export interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: a call made while an earlier batch is still on its way waits for it and then goes out together
 * with every other call that arrived meanwhile; a call made when nothing is in flight goes out at once, alone.
 * FerretDB commits one command as one SQLite transaction, so fifty writes in one command cost little more than
 * one. `send` writes a batch and answers each of its calls.
 */
export function createGroupCommit<T, R>(send: (batch: Waiting<T, R>[]) => Promise<void>, maxBatch = 200): (item: T) => Promise<R> {
  let waiting: Waiting<T, R>[] = [];
  let flushing = false;

  async function flush(): Promise<void> {
    flushing = true;
    while (waiting.length > 0) {
      const batch = waiting.slice(0, maxBatch);
      waiting = waiting.slice(batch.length);
      try {
        await send(batch);
      } catch (error) {
        batch.forEach((w) => w.reject(error));
      }
    }
    flushing = false;
  }

  return (item) =>
    new Promise<R>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      if (!flushing) void flush();
    });
}

/** The driver's per-document WriteError is not an Error; give callers one, keeping its code (11000...). */
export function asError(result: unknown): Error {
  if (result instanceof Error) return result;
  const writeError = result as { code?: number; errmsg?: string };
  return Object.assign(new Error(writeError.errmsg ?? 'write refused'), { code: writeError.code });
}
