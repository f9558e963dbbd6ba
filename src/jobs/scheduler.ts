import { Agenda, type AgendaBackend, type Job } from 'agenda';
import { MongoBackend } from '@agendajs/mongo-backend';
import type { Db } from 'mongodb';
import type { Logger } from '../logger.js';
import type { JobData, Planner } from './context.js';
import { LeaderLease } from '../db/leader-lease.js';
import { doOnce } from './marks.js';

export const JOBS_COLLECTION = 'agendaJobs';

export type JobHandler<DATA> = (data: DATA, job: { id: string; name: string }) => Promise<void>;

export interface PlannedJob {
  id: string;
  name: string;
  nextRunAt: Date;
  data: JobData;
}

export interface JobSchedulerOptions {
  db: Db;
  /** This process in the leader lease and in Agenda's lastModifiedBy. */
  instanceId: string;
  logger: Logger;
  leaseTtlMs: number;
  /** How often the leader looks for due jobs. */
  processEveryMs: number;
}

/**
 * Agenda on the gateway's database, run by one process at a time. Any process may plan and cancel jobs
 * (plain inserts and deletes); only the holder of the `agenda` leader lease runs Agenda's processor, because
 * Agenda locks jobs with findOneAndUpdate, which FerretDB does not make atomic across processes.
 */
export class JobScheduler implements Planner {
  readonly agenda: Agenda;
  private readonly lease: LeaderLease;
  private readonly recurring: Array<{ interval: string | number; name: string; data: JobData | undefined }> = [];
  private started = false;
  private readonly handlers = new Map<string, JobHandler<never>>();

  constructor(private readonly options: JobSchedulerOptions) {
    const mongo = new MongoBackend({ mongo: options.db, collection: JOBS_COLLECTION, ensureIndex: false });
    // Agenda connects in its constructor without a catch (an unhandled rejection); this wrapper keeps the
    // failure instead, and start() throws it.
    const backend: AgendaBackend = {
      name: mongo.name,
      repository: mongo.repository,
      logger: mongo.logger,
      ownsConnection: false,
      connect: async () => {
        try {
          await mongo.connect();
        } catch (error) {
          this.connectFailure = error;
        }
      },
      disconnect: () => mongo.disconnect(),
    };
    this.agenda = new Agenda({ backend, name: options.instanceId, processEvery: options.processEveryMs, removeOnComplete: true, defaultLockLifetime: 10 * 60_000 });
    // Agenda reports its own database trouble (locking, polling during an outage) as 'error' events, which an
    // EventEmitter without a listener would throw; it polls again at its next interval.
    this.agenda.on('error', (error: unknown) => options.logger.warn({ err: error }, 'job scheduler could not reach the database; it tries again at its next poll'));
    this.agenda.on('fail', (error: Error | string, job: Job | { jobName?: string }) => {
      const name = 'attrs' in job ? job.attrs.name : job.jobName;
      options.logger.error({ err: error, job: name }, 'job failed');
    });
    this.lease = new LeaderLease({
      name: 'agenda',
      holder: options.instanceId,
      ttlMs: options.leaseTtlMs,
      logger: options.logger,
      onAcquire: () => this.becomeLeader(),
      onLose: () => this.agenda.stop(false),
    });
  }

  private connectFailure: unknown;

  get isLeader(): boolean {
    return this.lease.isLeader;
  }

  /** The instance id of the process that runs the jobs now (this one or another copy), undefined while none does. */
  leader(): Promise<string | undefined> {
    return this.lease.currentHolder();
  }

  /** Defines what a job name does; every process defines all jobs, the leader runs them. */
  define<DATA>(name: string, handler: JobHandler<DATA>, options: { concurrency?: number } = {}): void {
    this.handlers.set(name, handler as JobHandler<never>);
    this.agenda.define<DATA>(
      name,
      async (job) => {
        const id = String(job.attrs._id);
        // On FerretDB even one processor can lock a job twice (its queue fill and its on-the-fly lock race on a
        // non-atomic findOneAndUpdate): a unique claim per one-off job makes the second run a no-op.
        if (job.attrs.repeatInterval) return handler(job.attrs.data, { id, name });
        await doOnce(`run:${id}`, undefined, new Date(), () => handler(job.attrs.data, { id, name }));
      },
      { concurrency: options.concurrency ?? 5 },
    );
  }

  /** A recurring job (archive daily, reports): (re)registered by whichever process becomes leader. */
  async every(interval: string | number, name: string, data?: JobData): Promise<void> {
    this.recurring.push({ interval, name, data });
    if (this.lease.isLeader) await this.agenda.every(interval, name, data);
  }

  async schedule(when: Date, name: string, data: JobData): Promise<string> {
    const job = await this.agenda.schedule(when, name, data);
    return String(job.attrs._id);
  }

  async cancel(names: string[], data: JobData): Promise<number> {
    return this.agenda.cancel({ names, data });
  }

  async cancelAll(data: JobData): Promise<number> {
    return this.agenda.cancel({ data });
  }

  async cancelById(id: string): Promise<boolean> {
    return (await this.agenda.cancel({ id })) > 0;
  }

  /** Jobs still to run whose data contains `data`, soonest first. */
  async planned(data: JobData): Promise<PlannedJob[]> {
    const { jobs } = await this.agenda.queryJobs({ data, sort: { nextRunAt: 'asc' } });
    return jobs
      .filter((job) => job.nextRunAt && !job.disabled && job.state !== 'running')
      .map((job) => ({ id: String(job._id), name: job.name, nextRunAt: job.nextRunAt!, data: job.data as JobData }));
  }

  /** Connects (creating Agenda's indexes, failures thrown here) and starts contending for leadership. */
  async start(): Promise<void> {
    const collection = this.options.db.collection(JOBS_COLLECTION);
    await collection.createIndex({ name: 1, priority: -1, lockedAt: 1, nextRunAt: 1, disabled: 1 }, { name: 'findAndLockNextJobIndex' });
    await collection.createIndex({ 'data.conversationId': 1, nextRunAt: 1 }, { name: 'conversationJobs' });
    await this.agenda.ready;
    if (this.connectFailure) throw this.connectFailure;
    this.started = true;
    this.lease.start();
  }

  /**
   * Stops running jobs (waiting for running ones up to `timeoutMs`) and hands leadership over at once. Resolves
   * only when Agenda's poller has no database call in flight, so the database can be closed right after.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.started) return;
    this.started = false;
    const poller = quietenPoller(this.agenda, () => this.started);
    if (this.lease.isLeader) {
      await this.agenda.drain({ timeout: timeoutMs, closeConnection: false });
      // Due jobs this leader had locked but not started: free them for the next leader now, not after the lock lifetime.
      await this.options.db.collection(JOBS_COLLECTION).updateMany({ lockedAt: { $ne: null } }, { $set: { lockedAt: null } }).catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not free the job locks at stop; the next leader frees them'));
    }
    await this.lease.stop();
    await poller.settled(timeoutMs);
  }

  /**
   * Runs in this process, soonest first, the one-off jobs due by `now` (removing each before it runs), without
   * Agenda's processor: tests drive time with it, and it is how a job's own handler logic is exercised.
   */
  async runDue(now: Date): Promise<string[]> {
    const ran: string[] = [];
    for (;;) {
      const collection = this.options.db.collection(JOBS_COLLECTION);
      const next = await collection.find({ nextRunAt: { $lte: now }, repeatInterval: null, disabled: { $ne: true } }).sort({ nextRunAt: 1 }).limit(1).next();
      if (!next) return ran;
      await collection.deleteOne({ _id: next._id });
      const handler = this.handlers.get(String(next.name));
      if (!handler) continue;
      await (handler as JobHandler<unknown>)(next.data, { id: String(next._id), name: String(next.name) });
      ran.push(String(next.name));
    }
  }

  /** For tests: one lease round now instead of waiting for the timer. */
  async contend(): Promise<void> {
    await this.lease.tick();
  }

  private async becomeLeader(): Promise<void> {
    // Locks left by an earlier leader that died (a graceful stop frees its own) would hold those jobs for the
    // whole lock lifetime; only the lease holder runs jobs, so every lock now is a dead leader's.
    await this.options.db.collection(JOBS_COLLECTION).updateMany({ lockedAt: { $ne: null } }, { $set: { lockedAt: null } });
    await this.agenda.start();
    for (const { interval, name, data } of this.recurring) await this.agenda.every(interval, name, data);
  }
}

/** The calls Agenda's poller makes on its own (not awaited by anyone who could handle their failure). */
const POLLER_CALLS = new Set(['getNextJobToRun', 'lockJob', 'unlockJob', 'unlockJobs', 'saveJobState']);

interface PollerGate {
  inFlight: Set<Promise<unknown>>;
  /** Poller calls are no-ops while this says so (between a stop and a new start). */
  quiet: () => boolean;
}
const gates = new WeakMap<Agenda, PollerGate>();

/**
 * At a stop, Agenda's poller may still be in the middle of a round (`drain` only clears its timer) and fires some
 * calls without awaiting them (unlocking a job it locked too early): once the database is closed they fail as
 * unhandled rejections (MongoPoolClearedError). This puts a gate in front of Agenda's repository that counts the
 * poller's calls in flight; `settled` waits for them, and for a round in progress, then makes later poller calls
 * no-ops until the scheduler starts again (no job found, nothing saved: the next leader frees and runs what is left).
 */
function quietenPoller(agenda: Agenda, running: () => boolean): { settled(timeoutMs: number): Promise<void> } {
  let closed = false;
  let gate = gates.get(agenda);
  if (!gate) {
    const repository = agenda.db;
    const created: PollerGate = { inFlight: new Set(), quiet: () => false };
    agenda.db = new Proxy(repository, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (typeof value !== 'function') return value;
        if (!POLLER_CALLS.has(String(name))) return value.bind(target);
        return (...args: unknown[]) => {
          if (created.quiet()) return Promise.resolve(undefined);
          const call = (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          created.inFlight.add(call);
          void call.catch(() => undefined).finally(() => created.inFlight.delete(call));
          return call;
        };
      },
    });
    gates.set(agenda, created);
    gate = created;
  }
  const { inFlight } = gate;
  gate.quiet = () => closed && !running();
  // Agenda 6's processor, to see whether a round is still running (read defensively: internals).
  const processor = (agenda as unknown as { jobProcessor?: { isJobQueueFilling?: Map<string, boolean>; localQueueProcessing?: number } }).jobProcessor;
  const busy = () => inFlight.size > 0 || (processor?.isJobQueueFilling?.size ?? 0) > 0 || (processor?.localQueueProcessing ?? 0) > 0;
  return {
    async settled(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (busy() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      closed = true;
    },
  };
}
