export interface BucketSpec {
  key: string;
  /** Tokens the bucket holds when full (the burst). */
  capacity: number;
  /** Tokens added per second. */
  refillPerSecond: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
  blockedUntil: number;
}

/**
 * Token buckets, one per key (a chat, a group, a bot). A send takes one token from every bucket it needs,
 * or none if any is empty. Kept per process: with several gateway copies the remote's 429 is the backstop.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes a token from each bucket and returns 0, or returns how many ms to wait and takes nothing. */
  tryTake(specs: BucketSpec[]): number {
    const now = this.now();
    let wait = 0;
    for (const spec of specs) {
      const bucket = this.refilled(spec, now);
      if (bucket.blockedUntil > now) wait = Math.max(wait, bucket.blockedUntil - now);
      else if (bucket.tokens < 1) wait = Math.max(wait, Math.ceil(((1 - bucket.tokens) / spec.refillPerSecond) * 1000));
    }
    if (wait > 0) return wait;
    for (const spec of specs) this.buckets.get(spec.key)!.tokens -= 1;
    return 0;
  }

  /** The remote said 429: nothing goes to these buckets for `ms`. */
  block(keys: string[], ms: number): void {
    const until = this.now() + ms;
    for (const key of keys) {
      const bucket = this.buckets.get(key);
      if (bucket) {
        bucket.blockedUntil = Math.max(bucket.blockedUntil, until);
        bucket.tokens = 0;
      }
    }
  }

  private refilled(spec: BucketSpec, now: number): Bucket {
    let bucket = this.buckets.get(spec.key);
    if (!bucket) {
      bucket = { tokens: spec.capacity, updatedAt: now, blockedUntil: 0 };
      this.buckets.set(spec.key, bucket);
    }
    const elapsed = Math.max(0, now - Math.max(bucket.updatedAt, bucket.blockedUntil));
    bucket.tokens = Math.min(spec.capacity, bucket.tokens + (elapsed / 1000) * spec.refillPerSecond);
    bucket.updatedAt = now;
    return bucket;
  }
}
