/**
 * Token buckets keyed by visitor and by IP address, per process. Unlike the outbox's RateLimiter it forgets
 * buckets that have refilled completely (they are the same as new ones), so a stream of one-time visitors
 * does not grow memory without bound.
 */
export interface Limit {
  key: string;
  perMinute: number;
}

export class SlidingBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes one token from every bucket and returns 0, or returns the ms to wait and takes nothing. */
  take(limits: Limit[]): number {
    const now = this.now();
    let wait = 0;
    const refilled = limits.map((limit) => {
      const bucket = this.buckets.get(limit.key) ?? { tokens: limit.perMinute, at: now };
      const tokens = Math.min(limit.perMinute, bucket.tokens + ((now - bucket.at) / 60_000) * limit.perMinute);
      if (tokens < 1) wait = Math.max(wait, Math.ceil(((1 - tokens) / limit.perMinute) * 60_000));
      return { limit, tokens };
    });
    for (const { limit, tokens } of refilled) this.buckets.set(limit.key, { tokens: wait > 0 ? tokens : tokens - 1, at: now });
    return wait;
  }

  /** Drops buckets that are full again; `perMinute` tells each key's capacity. */
  sweep(perMinute: (key: string) => number): void {
    const now = this.now();
    for (const [key, bucket] of this.buckets) {
      const capacity = perMinute(key);
      if (bucket.tokens + ((now - bucket.at) / 60_000) * capacity >= capacity) this.buckets.delete(key);
    }
  }
}
