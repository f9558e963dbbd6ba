/**
 * Remembers a remote look-up's answer per key for a while, failures too, and lets callers who ask at the same
 * time share one request: a burst of messages from one new customer asks for their profile once, not once per
 * message, even (especially) while the profile API fails.
 */
export class LookupCache<Value> {
  private readonly entries = new Map<string, { answer: Promise<Value | undefined>; expiresAt: number }>();

  constructor(
    private readonly options: {
      lookup: (key: string) => Promise<Value | undefined>;
      /** Called once per failed look-up; the callers get undefined. */
      onError: (error: unknown, key: string) => void;
      ttlMs: number;
      failureTtlMs: number;
      /** The oldest entries go beyond this many keys. */
      maxEntries?: number;
      now?: () => number;
    },
  ) {}

  get(key: string): Promise<Value | undefined> {
    const now = this.now();
    const cached = this.entries.get(key);
    if (cached && cached.expiresAt > now) return cached.answer;
    // In flight: never expires, so concurrent callers share it; settled, it lives for ttlMs or failureTtlMs.
    const entry = { expiresAt: Number.POSITIVE_INFINITY } as { answer: Promise<Value | undefined>; expiresAt: number };
    entry.answer = this.options.lookup(key).then(
      (value) => {
        entry.expiresAt = this.now() + this.options.ttlMs;
        return value;
      },
      (error: unknown) => {
        entry.expiresAt = this.now() + this.options.failureTtlMs;
        this.options.onError(error, key);
        return undefined;
      },
    );
    this.entries.delete(key);
    this.entries.set(key, entry);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= (this.options.maxEntries ?? 10_000)) break;
      this.entries.delete(oldest);
    }
    return entry.answer;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }
}
