import { JobLeaseModel } from './models/index.js';
import { isDuplicateKeyError } from './errors.js';
import type { Logger } from '../logger.js';

export interface LeaderLeaseOptions {
  /** What is led, e.g. 'agenda'. */
  name: string;
  /** This process, as other processes see it in the lease. */
  holder: string;
  /** How long a term lasts without renewal; the holder renews every third of it. */
  ttlMs: number;
  logger: Logger;
  onAcquire(): Promise<void>;
  onLose(): Promise<void>;
  now?: () => number;
}

/**
 * "Only one process at a time" on a database whose updates are not atomic (FerretDB). Each term is a
 * document `<name>:<epoch>`; a process becomes leader only by inserting the next epoch, which the unique
 * _id grants to exactly one contender, and only when the latest term is expired. The holder renews its own
 * term; if it finds a later epoch, or fails to renew before its term runs out, it steps down.
 */
export class LeaderLease {
  private epoch: number | undefined;
  /** Until when this process may act as leader without a confirmed renewal. */
  private validUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = true;
  private readonly now: () => number;

  constructor(private readonly options: LeaderLeaseOptions) {
    this.now = options.now ?? Date.now;
  }

  get isLeader(): boolean {
    return this.epoch !== undefined && this.now() < this.validUntil;
  }

  /** Who holds the current term (this process or another), undefined while nobody does. */
  async currentHolder(): Promise<string | undefined> {
    if (this.isLeader) return this.options.holder;
    const latest = await JobLeaseModel.findOne({ name: this.options.name }).sort({ epoch: -1 }).lean();
    return latest && latest.expiresAt.getTime() > this.now() ? latest.holder : undefined;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Steps down (handing over at once by expiring our term) and stops contending. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    if (this.epoch !== undefined) {
      const epoch = this.epoch;
      await this.stepDown('stopping');
      await JobLeaseModel.updateOne({ _id: this.id(epoch), holder: this.options.holder }, { $set: { expiresAt: new Date(this.now()) } }).catch(() => undefined);
    }
  }

  /** One round of take / renew / check; exposed for tests. */
  async tick(): Promise<void> {
    this.ticking = this.round().catch((error) => this.options.logger.error({ err: error, lease: this.options.name }, 'leader lease round failed'));
    await this.ticking;
  }

  private schedule(delayMs: number) {
    if (this.stopped) return;
    this.timer = setTimeout(async () => {
      await this.tick();
      this.schedule(Math.max(250, Math.floor(this.options.ttlMs / 3)));
    }, delayMs);
  }

  private id(epoch: number) {
    return `${this.options.name}:${epoch}`;
  }

  private async round(): Promise<void> {
    const { name, holder, ttlMs } = this.options;
    const startedAt = this.now();
    // Our term ran out without a confirmed renewal (database unreachable?): someone else may lead now.
    if (this.epoch !== undefined && startedAt >= this.validUntil) await this.stepDown('term expired before renewal');

    const latest = await JobLeaseModel.findOne({ name }).sort({ epoch: -1 }).lean();
    if (this.epoch !== undefined) {
      if (latest && latest.epoch === this.epoch && latest.holder === holder) {
        await JobLeaseModel.updateOne({ _id: latest._id, holder }, { $set: { expiresAt: new Date(startedAt + ttlMs) } });
        // A contender that saw our term expired may have inserted the next epoch meanwhile.
        if (await JobLeaseModel.exists({ name, epoch: { $gt: this.epoch } })) return this.stepDown('a later term exists');
        this.validUntil = startedAt + ttlMs;
        await JobLeaseModel.deleteMany({ name, epoch: { $lt: this.epoch - 1 } });
        return;
      }
      await this.stepDown('a later term exists');
    }
    // A live term of another holder stands. One under our own name that this run does not hold was left by our
    // previous run (a crash): taken over at once, as the outbox takes back that run's claims.
    if (latest && latest.expiresAt.getTime() > startedAt && latest.holder !== holder) return;

    const epoch = (latest?.epoch ?? 0) + 1;
    try {
      await JobLeaseModel.create({ _id: this.id(epoch), name, epoch, holder, acquiredAt: new Date(startedAt), expiresAt: new Date(startedAt + ttlMs) });
    } catch (error) {
      if (isDuplicateKeyError(error)) return;
      throw error;
    }
    this.epoch = epoch;
    this.validUntil = startedAt + ttlMs;
    this.options.logger.info({ lease: name, epoch, holder }, 'became leader');
    try {
      await this.options.onAcquire();
    } catch (error) {
      this.options.logger.error({ err: error, lease: name }, 'could not start as leader; handing over');
      await this.stepDown('start failed');
      await JobLeaseModel.updateOne({ _id: this.id(epoch), holder }, { $set: { expiresAt: new Date(this.now()) } });
    }
  }

  private async stepDown(why: string): Promise<void> {
    if (this.epoch === undefined) return;
    this.options.logger.info({ lease: this.options.name, epoch: this.epoch, why }, 'no longer leader');
    this.epoch = undefined;
    this.validUntil = 0;
    await this.options.onLose();
  }
}
