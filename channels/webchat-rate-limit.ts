/**
 * Token buckets keyed by visitor and by IP address, per process. Unlike the outbox's RateLimiter it forgets
 * buckets that have refilled completely (they are the same as new ones), so a stream of one-time visitors
 * does not grow memory without bound.
 */
export interface Limit {
  key: string;
  /** Refill rate. */
  perMinute: number;
  /** Bucket size (the burst); default: `perMinute`. */
  capacity?: number;
}

interface Bucket {
  tokens: number;
  at: number;
  perMinute: number;
  capacity: number;
}

export class SlidingBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes `cost` tokens from every bucket and returns 0, or returns the ms to wait and takes nothing. */
  take(limits: Limit[], cost = 1): number {
    const now = this.now();
    let wait = 0;
    const refilled = limits.map((limit) => {
      const capacity = limit.capacity ?? limit.perMinute;
      const tokens = this.tokens(limit.key, now) ?? capacity;
      // A cost above the bucket's size is never paid; it is told to wait for a full bucket.
      if (tokens < cost) wait = Math.max(wait, 1, Math.ceil(((Math.min(cost, capacity) - tokens) / limit.perMinute) * 60_000));
      return { limit, capacity, tokens };
    });
    for (const { limit, capacity, tokens } of refilled) this.buckets.set(limit.key, { tokens: wait > 0 ? tokens : tokens - cost, at: now, perMinute: limit.perMinute, capacity });
    return wait;
  }

  /** What is left in a bucket now (its capacity when it was never used or has refilled). */
  available(limit: Limit): number {
    return this.tokens(limit.key, this.now()) ?? limit.capacity ?? limit.perMinute;
  }

  /** Takes `cost` tokens whatever is left (the bucket may go below zero): for what was already spent. */
  charge(limits: Limit[], cost: number): void {
    const now = this.now();
    for (const limit of limits) {
      const capacity = limit.capacity ?? limit.perMinute;
      this.buckets.set(limit.key, { tokens: (this.tokens(limit.key, now) ?? capacity) - cost, at: now, perMinute: limit.perMinute, capacity });
    }
  }

  /** Drops buckets that are full again. */
  sweep(): void {
    const now = this.now();
    for (const [key, bucket] of this.buckets) if ((this.tokens(key, now) ?? Infinity) >= bucket.capacity) this.buckets.delete(key);
  }

  private tokens(key: string, now: number): number | undefined {
    const bucket = this.buckets.get(key);
    if (!bucket) return undefined;
    return Math.min(bucket.capacity, bucket.tokens + ((now - bucket.at) / 60_000) * bucket.perMinute);
  }
}

/** A token bucket of its own (one socket's budget for one kind of frame): no map, no key. */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly capacity: number,
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = capacity;
    this.at = now();
  }

  /** Takes one token if there is one. */
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.at) / 60_000) * this.perMinute);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
