/** One call waiting for its batch: what it asked for, and how to answer it. */
export interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

type Send<T, R> = (batch: Waiting<T, R>[]) => Promise<void>;

/**
 * Group commit: a call made while an earlier batch is still on its way waits for it and then goes out together
 * with every other call that arrived meanwhile (at most `maxBatch`); a call made when nothing is in flight goes
 * out at once, alone. FerretDB commits one command as one SQLite transaction, so fifty writes in one command
 * cost little more than one. `send` handles a batch and answers each of its calls; `onIdle` runs when the last
 * batch is done and nothing waits.
 */
export function createGroupCommit<T, R>(send: Send<T, R>, maxBatch = 200, onIdle?: () => void): (item: T) => Promise<R> {
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
    onIdle?.();
  }

  return (item) =>
    new Promise<R>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      if (!flushing) void flush();
    });
}

/**
 * Group commit per key: calls of one key are handled one batch at a time, in arrival order, and different keys
 * in parallel. A key's state lives only while it has calls in flight.
 */
export function createKeyedGroupCommit<T, R>(send: Send<T, R>, maxBatch = 200): (key: string, item: T) => Promise<R> {
  const perKey = new Map<string, (item: T) => Promise<R>>();
  return (key, item) => {
    let commit = perKey.get(key);
    if (!commit) {
      commit = createGroupCommit(send, maxBatch, () => perKey.delete(key));
      perKey.set(key, commit);
    }
    return commit(item);
  };
}
