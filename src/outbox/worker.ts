import { OutboxClaimModel, OutboxItemModel, type OutboxItem } from '../db/models/index.js';
import { isDuplicateKeyError } from '../db/errors.js';
import { untilDatabaseAnswers } from '../db/retry.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { backoffDelay } from './backoff.js';
import { onEnqueued } from './enqueue.js';
import { DeliveryError } from './errors.js';
import { RateLimiter, type BucketSpec } from './rate-limiter.js';
import { operatorText } from '../i18n/operator-texts.js';

export type ClaimedItem = OutboxItem & {
  _id: import('mongoose').Types.ObjectId;
  /** How many pending items of its stream wait behind it (none: a deliverer need not look for more to merge). */
  queuedBehind?: number;
};

/**
 * What may be spent on an item now: a grant to send (handed to `deliver`), how long to wait, or nothing at all
 * because the item no longer needs sending (an alert for a chat someone took, a name the topic already has).
 */
export type Reservation<Grant> = { grant: Grant } | { waitMs: number } | { skip: string };

/** Delivers the items of one route (a channel, or the operator console). */
export interface Deliverer<Grant = undefined> {
  /** Token buckets a send of this item must take from (kept in this process). */
  rateBuckets?(item: ClaimedItem): BucketSpec[];
  /** Instead of rateBuckets: the deliverer decides itself what a send may spend, and whether it is needed. */
  reserve?(item: ClaimedItem): Promise<Reservation<Grant>>;
  /**
   * Sends it. Throw DeliveryError to say how it failed; any other error counts as transient.
   * Return `repeat: true` when one step of a multi-step item is done (e.g. a topic was created before the
   * message it is for): the item runs again at once, with a fresh reservation.
   */
  deliver(item: ClaimedItem, grant: Grant): Promise<DeliveryOutcome | void>;
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
  /** Each route's deliverer has a grant type of its own. */
  deliverers: Map<string, Deliverer<any>>;
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
 * expires after the lease and the next worker claims attempt n+1; a worker restarted under the same id takes
 * its own claims back at once. Either way the crashed attempt may have reached the remote before it was
 * recorded: the item is marked `mayRepeat` (the console marks such a relay as possibly repeated).
 */
export class OutboxWorker {
  private readonly limiter: RateLimiter;
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer?: NodeJS.Timeout;
  private running = false;
  private ticking = false;
  private tickAgain = false;
  private ownClaimsTakenBack = false;
  private stopping = new AbortController();
  private unsubscribe?: () => void;

  constructor(private readonly options: OutboxWorkerOptions) {
    this.limiter = options.limiter ?? new RateLimiter();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = new AbortController();
    this.unsubscribe = onEnqueued(() => this.wake());
    this.schedule(0);
  }

  /** Stops claiming; waits for in-flight sends to settle so nothing is half-done. */
  async stop(timeoutMs = 15_000): Promise<void> {
    this.running = false;
    this.stopping.abort();
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
      if (!this.ownClaimsTakenBack) await this.takeBackOwnClaims();
      do {
        this.tickAgain = false;
        const now = new Date();
        const capacity = (this.options.maxConcurrent ?? 64) - this.inFlight.size;
        // Higher priorities first: where items share a budget, the first to ask gets it.
        const heads = (await this.streamHeads())
          .filter((head) => head.nextAttemptAt <= now && this.mayDeliver(head, now) && !this.inFlight.has(head.stream))
          .sort((a, b) => (a.priority ?? 1) - (b.priority ?? 1) || a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime())
          .slice(0, Math.max(0, capacity));
        for (const head of heads) {
          const wait = await this.startStreamHead(head, now);
          if (wait) shortestWait = Math.min(shortestWait ?? wait, wait);
        }
      } while (this.tickAgain && this.running);
    } finally {
      this.ticking = false;
    }
    return shortestWait;
  }

  /**
   * Claims held under this worker's id before it claimed anything itself were left by a previous run that
   * stopped mid-send (a crash): released at once instead of after the lease, their items marked as possibly
   * sent already.
   */
  private async takeBackOwnClaims(): Promise<void> {
    const left = await OutboxClaimModel.find({ worker: this.options.workerId, released: false }).lean();
    for (const claim of left) {
      await OutboxItemModel.updateOne({ _id: claim.item, status: 'pending' }, { $set: { mayRepeat: true } });
      await OutboxClaimModel.updateOne({ _id: claim._id }, { $set: { released: true } });
    }
    if (left.length > 0) this.options.logger.warn({ items: left.length }, 'took back the claims a previous run of this gateway left mid-send; those items may repeat');
    this.ownClaimsTakenBack = true;
  }

  /**
   * The first pending item of each stream (the one it delivers next), with how many wait behind it, from one read
   * of every pending item: on the embedded FerretDB any query but by _id reads the whole collection anyway.
   */
  private async streamHeads(): Promise<ClaimedItem[]> {
    const routes = [...this.options.deliverers.keys()];
    const pending = (await OutboxItemModel.find({ status: 'pending', route: { $in: routes } }).sort({ seq: 1 }).limit(MAX_PENDING_READ).lean()) as ClaimedItem[];
    const heads = new Map<string, ClaimedItem>();
    for (const item of pending) {
      const head = heads.get(item.stream);
      if (head) head.queuedBehind = (head.queuedBehind ?? 0) + 1;
      else heads.set(item.stream, { ...item, queuedBehind: 0 });
    }
    return [...heads.values()];
  }

  /** An item handed to another gateway copy is that copy's until its time runs out (the copy may have died). */
  private mayDeliver(item: ClaimedItem, now: Date): boolean {
    return !item.instance || item.instance === this.options.workerId || !item.instanceUntil || item.instanceUntil <= now;
  }

  private async startStreamHead(head: ClaimedItem, now: Date): Promise<number | undefined> {
    const stream = head.stream;
    const deliverer = this.options.deliverers.get(head.route);
    if (!deliverer) return undefined;
    let grant: unknown;
    let buckets: BucketSpec[] = [];
    if (deliverer.reserve) {
      const reservation = await deliverer.reserve(head);
      if ('waitMs' in reservation) return reservation.waitMs;
      if ('skip' in reservation) return void (await this.skip(head, reservation.skip));
      grant = reservation.grant;
    } else {
      buckets = deliverer.rateBuckets?.(head) ?? [];
      const wait = this.limiter.tryTake(buckets);
      if (wait > 0) return wait;
    }
    const claimId = await this.claim(head, now);
    if (!claimId) return undefined;
    const read = (await OutboxItemModel.findById(head._id).lean()) as ClaimedItem | null;
    if (!read || read.status !== 'pending' || read.nextAttemptAt > now) {
      await OutboxClaimModel.updateOne({ _id: claimId }, { $set: { released: true } });
      return undefined;
    }
    const fresh: ClaimedItem = { ...read, queuedBehind: head.queuedBehind };
    const run = this.deliver(fresh, deliverer, grant, buckets, claimId)
      .catch((error: unknown) => this.options.logger.error({ err: error, outboxItem: String(fresh._id) }, 'outbox delivery failed unexpectedly; the item is retried after its lease'))
      .finally(() => {
        this.inFlight.delete(stream);
        this.wake();
      });
    this.inFlight.set(stream, run);
    return undefined;
  }

  /**
   * Inserts the claim of the next attempt. A previous attempt whose claim was neither released nor settled (its
   * worker died, or hung past the lease) may have reached the remote: the item is marked as possibly repeated.
   */
  private async claim(item: ClaimedItem, now: Date): Promise<string | undefined> {
    const latest = await OutboxClaimModel.findOne({ item: item._id }).sort({ n: -1 }).lean();
    if (latest && !latest.released && latest.leaseUntil > now) return undefined;
    const n = (latest?.n ?? 0) + 1;
    const claimId = `${item._id}#${n}`;
    try {
      await OutboxClaimModel.create({ _id: claimId, item: item._id, n, worker: this.options.workerId, leaseUntil: new Date(now.getTime() + this.options.leaseMs) });
    } catch (error) {
      if (isDuplicateKeyError(error)) return undefined;
      throw error;
    }
    if (latest && !latest.released && !item.mayRepeat) await OutboxItemModel.updateOne({ _id: item._id }, { $set: { mayRepeat: true } });
    return claimId;
  }

  /** An item that no longer needs sending leaves the queue without spending anything (unless asked for again meanwhile). */
  private async skip(item: ClaimedItem, why: string): Promise<void> {
    const removed = await OutboxItemModel.deleteOne({ _id: item._id, ...sameRevision(item) });
    if (removed.deletedCount > 0) await OutboxClaimModel.deleteMany({ item: item._id });
    this.options.logger.debug({ outboxItem: String(item._id), action: item.action, why }, 'outbox item not needed any more');
  }

  private async deliver(item: ClaimedItem, deliverer: Deliverer<unknown>, grant: unknown, buckets: BucketSpec[], claimId: string): Promise<void> {
    const { logger, metrics } = this.options;
    const log = logger.child({ outboxItem: String(item._id), route: item.route, action: item.action, conversationId: item.conversation ? String(item.conversation) : undefined });
    const stopTimer = metrics?.sendSeconds.startTimer({ route: item.route });
    let outcome: { result: DeliveryOutcome } | { error: unknown };
    try {
      outcome = { result: (await withTimeout(deliverer.deliver(item, grant), this.options.sendTimeoutMs)) ?? {} };
    } catch (error) {
      outcome = { error };
    }
    stopTimer?.();
    // What happened is recorded even through a database outage: an unrecorded send would be sent again.
    await this.untilRecorded(log, () => ('result' in outcome ? this.recordSuccess(item, outcome.result, claimId, log) : this.recordFailure(item, outcome.error, buckets, claimId, log)));
  }

  private async recordSuccess(item: ClaimedItem, result: DeliveryOutcome, claimId: string, log: Logger): Promise<void> {
    if (result.repeat) {
      await OutboxClaimModel.updateOne({ _id: claimId }, { $set: { released: true } });
      return;
    }
    // What the send did (a message now "sent") is recorded while the item still exists: whoever looks in between
    // finds one or the other, never neither, and does not queue the send again.
    await this.runEvent(log, () => this.options.events?.delivered?.(item, result));
    // Delivered items leave the collection: it holds only work to do, which keeps every scan of it short. One asked
    // for again while it was being sent (to show a later state) stays, and runs again.
    const removed = await OutboxItemModel.deleteOne({ _id: item._id, ...sameRevision(item) });
    if (removed.deletedCount === 0) {
      await OutboxItemModel.updateOne({ _id: item._id }, { $set: { nextAttemptAt: new Date(), attempts: 0 } });
      await OutboxClaimModel.updateOne({ _id: claimId }, { $set: { released: true } });
      return;
    }
    await OutboxClaimModel.deleteMany({ item: item._id });
    this.options.metrics?.delivered.inc({ route: item.route });
    log.debug('delivered');
  }

  private async recordFailure(item: ClaimedItem, error: unknown, buckets: BucketSpec[], claimId: string, log: Logger): Promise<void> {
    const { metrics, events } = this.options;
    const failure = error instanceof DeliveryError ? error : DeliveryError.transient((error as Error).message ?? String(error));
    if (failure.kind === 'elsewhere') {
      await OutboxItemModel.updateOne({ _id: item._id }, { $set: { instance: failure.instance, instanceUntil: new Date(Date.now() + ROUTED_FOR_MS), nextAttemptAt: new Date() } });
      await OutboxClaimModel.updateOne({ _id: claimId }, { $set: { released: true } });
      metrics?.retried.inc({ route: item.route, kind: failure.kind });
      log.debug({ instance: failure.instance }, 'handed to the gateway copy that can deliver it');
      return;
    }
    const attempts = item.attempts + (failure.kind === 'retry-after' ? 0 : 1);
    // A send that did not answer in time may still have gone through.
    const inDoubt = error instanceof SendTimeout ? { mayRepeat: true } : {};
    if (failure.kind === 'permanent' || attempts >= this.options.maxAttempts) {
      const reason = failure.kind === 'permanent' ? failure.message : operatorText('delivery.gaveUp', { count: attempts, reason: failure.message });
      await OutboxItemModel.updateOne({ _id: item._id }, { $set: { status: 'failed', settledAt: new Date(), lastError: reason, attempts, ...inDoubt } });
      await OutboxClaimModel.deleteMany({ item: item._id });
      metrics?.failed.inc({ route: item.route });
      log.warn({ reason }, 'delivery failed for good');
      await this.runEvent(log, () => events?.failed?.(item, reason));
      return;
    }
    const delayMs = failure.kind === 'retry-after' ? failure.retryAfterMs! : backoffDelay(attempts, { baseMs: this.options.backoffBaseMs });
    if (failure.kind === 'retry-after') this.limiter.block(buckets.map((b) => b.key), delayMs);
    await OutboxItemModel.updateOne({ _id: item._id }, { $set: { nextAttemptAt: new Date(Date.now() + delayMs), lastError: failure.message, attempts, ...inDoubt } });
    await OutboxClaimModel.updateOne({ _id: claimId }, { $set: { released: true } });
    metrics?.retried.inc({ route: item.route, kind: failure.kind });
    log.info({ delayMs, attempts, reason: failure.message }, 'delivery will be retried');
  }

  /** What follows a settled item (its delivery status shown): waits out an outage; any other failure is logged. */
  private async runEvent(log: Logger, event: () => Promise<void> | undefined): Promise<void> {
    try {
      await this.untilRecorded(log, async () => event());
    } catch (error) {
      log.error({ err: error }, 'outbox event handler failed');
    }
  }

  /**
   * Runs `record` until it gets through a database outage. Only a stop gives up: the claim then stays, and its
   * item is taken back (marked as possibly repeated) at the next start or after the lease.
   */
  private untilRecorded(log: Logger, record: () => Promise<void>): Promise<void> {
    return untilDatabaseAnswers(record, {
      signal: this.stopping.signal,
      onRetry: (error, attempt) => {
        if (attempt === 1 || attempt % 10 === 0) log.warn({ err: error, attempt }, 'could not record a delivery while the database is unreachable; trying again');
      },
    });
  }
}

/** Matches the item only as it was read: not after it was asked for again (items written before revisions have none). */
function sameRevision(item: ClaimedItem): Record<string, unknown> {
  return item.revision === undefined || item.revision === null ? { revision: { $in: [0, null] } } : { revision: item.revision };
}

/** Pending items read per pass: beyond it, the oldest are worked off first. */
const MAX_PENDING_READ = 10_000;

/** How long an item handed to another gateway copy waits for it before any copy may take it again (that copy died). */
const ROUTED_FOR_MS = 30_000;

/** A delivery attempt that took longer than OUTBOX_SEND_TIMEOUT: retried, and in doubt. */
class SendTimeout extends Error {
  override name = 'SendTimeout';
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SendTimeout(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}


