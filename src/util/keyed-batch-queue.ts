import type { Waiting } from '../db/group-commit.js';

/**
 * Handles the items of one key one batch at a time, in arrival order, and different keys in parallel: an item
 * that arrives while its key's batch is being handled waits, and goes with every other item of that key that
 * arrived meanwhile as the next batch (at most `maxBatch`). An item that finds its key idle is handled at once,
 * alone. `handle` answers each item of a batch in its own place.
 */
export class KeyedBatchQueue<T, R> {
  private readonly queues = new Map<string, Waiting<T, R>[]>();

  constructor(
    private readonly handle: (items: T[]) => Promise<PromiseSettledResult<R>[]>,
    private readonly maxBatch = 100,
  ) {}

  add(key: string, item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const queue = this.queues.get(key);
      if (queue) return void queue.push({ item, resolve, reject });
      this.queues.set(key, [{ item, resolve, reject }]);
      void this.drain(key);
    });
  }

  private async drain(key: string): Promise<void> {
    const queue = this.queues.get(key)!;
    while (queue.length > 0) {
      const batch = queue.splice(0, this.maxBatch);
      try {
        const results = await this.handle(batch.map((w) => w.item));
        batch.forEach((w, i) => {
          const result = results[i]!;
          if (result.status === 'fulfilled') w.resolve(result.value);
          else w.reject(result.reason);
        });
      } catch (error) {
        batch.forEach((w) => w.reject(error));
      }
    }
    this.queues.delete(key);
  }
}
