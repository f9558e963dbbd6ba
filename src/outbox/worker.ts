import { OutboxClaimModel, OutboxItemModel, type OutboxItem } from '../db/models/index.js';
import { isDuplicateKeyError } from '../db/errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { backoffDelay } from './backoff.js';
import { onEnqueued } from './enqueue.js';
import { DeliveryError } from './errors.js';
import { RateLimiter, type BucketSpec } from './rate-limiter.js';

export type ClaimedItem = OutboxItem & { _id: import('mongoose').Types.ObjectId };

/** Delivers the items of one route (a channel, or the operator console). */
export interface Deliverer {
  /** Token buckets a send of this item must take from. */
  rateBuckets(item: ClaimedItem): BucketSpec[];
  /**
   * Sends it. Throw DeliveryError to say how it failed; any other error counts as transient.
   * Return `repeat: true` when one step of a multi-step item is done (e.g. a topic was created before the
   * message it is for): the item runs again at once, taking a fresh rate-limit token.
   */
  deliver(item: ClaimedItem): Promise<DeliveryOutcome | void>;
}

export interface DeliveryOutcome {
  externalId?: string;
  repeat?: boolean;
}

export interface OutboxEvents {
  delivered?(item: ClaimedItem, result: { externalId?: string }): Promise<void>;
  failed?(item: ClaimedItem, reason: string): Promise<void>;
}

export interface OutboxWorkerOptions {
  workerId: string;
  deliverers: Map<string, Deliverer>;
  logger: Logger;
  leaseMs: number;
  pollIntervalMs: number;
  maxAttempts: number;
  sendTimeoutMs: number;
  maxConcurrent?: number;
  /** First retry waits up to this long, doubling each time (default 1 s). */
  backoffBaseMs?: number;
  events?: OutboxEvents;
  metrics?: Metrics;
  limiter?: RateLimiter;
}

/**
 * Takes due items from the outbox and delivers them. Exclusivity comes from inserting a claim document
 * whose _id names the item and the attempt; only one worker's insert succeeds. A crashed worker's claim
 * expires after the lease and the next worker claims attempt n+1.
 */
export class OutboxWorker {
  private readonly limiter: RateLimiter;
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer?: NodeJS.Timeout;
  private running = false;
  private ticking = false;
  private tickAgain = false;
  private unsubscribe?: () => void;

  constructor(private readonly options: OutboxWorkerOptions) {
    this.limiter = options.limiter ?? new RateLimiter();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = onEnqueued(() => this.wake());
    this.schedule(0);
  }

  /** Stops claiming; waits for in-flight sends to settle so nothing is half-done. */
  async stop(timeoutMs = 15_000): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    clearTimeout(this.timer);
    const settled = Promise.allSettled([...this.inFlight.values()]);
    await Promise.race([settled, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  /** Wake up now (new item queued, a send finished). */
  wake(): void {
    if (this.running) this.schedule(0);
  }

  /** Resolves when the sends in flight now have settled, without starting any. For tests. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** One pass over the due items; resolves when the started sends have settled. For tests and benchmarks. */
  async drainOnce(): Promise<void> {
    await this.tick();
    await Promise.allSettled([...this.inFlight.values()]);
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.loop(), delayMs);
  }

  private async loop(): Promise<void> {
    if (!this.running) return;
    let nextDelay = this.options.pollIntervalMs;
    try {
      const wait = await this.tick();
      if (wait !== undefined) nextDelay = Math.min(nextDelay, wait);
    } catch (error) {
      this.options.logger.error({ err: error }, 'outbox pass failed; retrying at the next poll');
    }
    if (this.running) this.schedule(nextDelay);
  }

  /** Returns the shortest rate-limit wait seen, if any, so the loop comes back exactly then. */
  private async tick(): Promise<number | undefined> {
    if (this.ticking) {
      this.tickAgain = true;
      return undefined;
    }
    this.ticking = true;
    let shortestWait: number | undefined;
    try {
      do {
        this.tickAgain = false;
        const now = new Date();
        const routes = [...this.options.deliverers.keys()];
        const due = await OutboxItemModel.find({ status: 'pending', nextAttemptAt: { $lte: now }, route: { $in: routes } }, { stream: 1 })
          .sort({ nextAttemptAt: 1 })
          .limit(500)
          .lean();
        const streams = [...new Set(due.map((item) => item.stream))].filter((stream) => !this.inFlight.has(stream));
        const capacity = (this.options.maxConcurrent ?? 64) - this.inFlight.size;
        for (const stream of streams.slice(0, Math.max(0, capacity))) {
          const wait = await this.startStreamHead(stream, now);
          if (wait) shortestWait = Math.min(shortestWait ?? wait, wait);
        }
      } while (this.tickAgain && this.running);
    } finally {
      this.ticking = false;
    }
    return shortestWait;
  }

  private async startStreamHead(stream: string, now: Date): Promise<number | undefined> {
    const head = (await OutboxItemModel.findOne({ stream, status: 'pending' }).sort({ seq: 1 }).lean()) as ClaimedItem | null;
    if (!head || head.nextAttemptAt > now) return undefined;
    const deliverer = this.options.deliverers.get(head.route);
    if (!deliverer) return undefined;
    const buckets = deliverer.rateBuckets(head);
    const wait = this.limiter.tryTake(buckets);
    if (wait > 0) return wait;
    const claimId = await this.claim(head, now);
    if (!claimId) return undefined;
    const fresh = (await OutboxItemModel.findById(head._id).lean()) as ClaimedItem | null;
    if (!fresh || fresh.status !== 'pending' || fresh.nextAttemptAt > now) {
      await OutboxClaimModel.updateOne({ _id: claimId }, { $set: { released: true } });
      return undefined;
    }
    const run = this.deliver(fresh, deliverer, buckets, claimId).finally(() => {
      this.inFlight.delete(stream);
      this.wake();
    });
    this.inFlight.set(stream, run);
    return undefined;
  }

  private async claim(item: ClaimedItem, now: Date): Promise<string | undefined> {
    const latest = await OutboxClaimModel.findOne({ item: item._id }).sort({ n: -1 }).lean();
    if (latest && !latest.released && latest.leaseUntil > now) return undefined;
    const n = (latest?.n ?? 0) + 1;
    const claimId = `${item._id}#${n}`;
    try {
      await OutboxClaimModel.create({ _id: claimId, item: item._id, n, worker: this.options.workerId, leaseUntil: new Date(now.getTime() + this.options.leaseMs) });
      return claimId;
    } catch (error) {
      if (isDuplicateKeyError(error)) return undefined;
      throw error;
    }
  }

  private async deliver(item: ClaimedItem, deliverer: Deliverer, buckets: BucketSpec[], claimId: string): Promise<void> {
    const { logger, metrics, events } = this.options;
    const log = logger.child({ outboxItem: String(item._id), route: item.route, action: item.action, conversationId: item.conversation ? String(item.conversation) : undefined });
    const stopTimer = metrics?.sendSeconds.startTimer({ route: item.route });
    try {
      const result = (await withTimeout(deliverer.deliver(item), this.options.sendTimeoutMs)) ?? {};
      stopTimer?.();
      if (result.repeat) {
        await OutboxClaimModel.updateOne({ _id: claimId }, { $set: { released: true } });
        return;
      }
      // Delivered items leave the collection: it holds only work to do, which keeps every scan of it short.
      await OutboxItemModel.deleteOne({ _id: item._id });
      await OutboxClaimModel.deleteMany({ item: item._id });
      metrics?.delivered.inc({ route: item.route });
      log.debug('delivered');
      await runEvent(log, () => events?.delivered?.(item, result));
    } catch (error) {
      stopTimer?.();
      const failure = error instanceof DeliveryError ? error : DeliveryError.transient((error as Error).message ?? String(error));
      const attempts = item.attempts + (failure.kind === 'retry-after' ? 0 : 1);
      if (failure.kind === 'permanent' || attempts >= this.options.maxAttempts) {
        const reason = failure.kind === 'permanent' ? failure.message : `gave up after ${attempts} attempts: ${failure.message}`;
        await OutboxItemModel.updateOne({ _id: item._id }, { $set: { status: 'failed', settledAt: new Date(), lastError: reason, attempts } });
        await OutboxClaimModel.deleteMany({ item: item._id });
        metrics?.failed.inc({ route: item.route });
        log.warn({ reason }, 'delivery failed for good');
        await runEvent(log, () => events?.failed?.(item, reason));
        return;
      }
      const delayMs = failure.kind === 'retry-after' ? failure.retryAfterMs! : backoffDelay(attempts, { baseMs: this.options.backoffBaseMs });
      if (failure.kind === 'retry-after') this.limiter.block(buckets.map((b) => b.key), delayMs);
      await OutboxItemModel.updateOne({ _id: item._id }, { $set: { nextAttemptAt: new Date(Date.now() + delayMs), lastError: failure.message, attempts } });
      await OutboxClaimModel.updateOne({ _id: claimId }, { $set: { released: true } });
      metrics?.retried.inc({ route: item.route, kind: failure.kind });
      log.info({ delayMs, attempts, reason: failure.message }, 'delivery will be retried');
    }
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(DeliveryError.transient(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function runEvent(log: Logger, fn: () => Promise<void> | undefined): Promise<void> {
  try {
    await fn();
  } catch (error) {
    log.error({ err: error }, 'outbox event handler failed');
  }
}
