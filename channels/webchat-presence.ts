import { randomBytes } from 'node:crypto';
import { WebchatRunModel, WebchatVisitorModel } from '../src/db/models/index.js';
import type { Logger } from '../src/logger.js';
import { KeyedMutex } from '../src/util/keyed-mutex.js';

export interface PresenceOptions {
  /** config.instanceId: the name the outbox workers know this copy by. */
  instanceId: string;
  logger: Logger;
  heartbeatMs?: number;
  /** A visitor's last socket closed this long ago before the copy stops saying it holds them (a reload reconnects). */
  releaseDelayMs?: number;
  now?: () => number;
}

const HEARTBEAT_MS = 10_000;
/** A run whose heartbeat is older than this many beats is taken for dead. */
const STALE_BEATS = 3;

/**
 * Which gateway copy holds each web chat visitor's sockets, kept in the database so a copy that is asked to send
 * to a visitor connected elsewhere can hand the send to that copy. Each start of a copy is a run with a random id
 * and a heartbeat (`WebchatRun`); a visitor's document lists the runs that hold a socket of theirs
 * (`WebchatVisitor.holders`), written when the first socket opens on this copy and when the last one closes. A run
 * that died leaves its entries behind: they are ignored once its heartbeat is stale, and removed when found.
 * Writes are per visitor and per heartbeat, never per frame.
 */
export class WebchatPresence {
  readonly runId = `run_${randomBytes(9).toString('base64url')}`;
  /** Visitors with a socket on this copy now, and those the database says this run holds. */
  private readonly connected = new Set<string>();
  private readonly held = new Set<string>();
  private readonly releases = new Map<string, NodeJS.Timeout>();
  private readonly perVisitor = new KeyedMutex();
  private readonly heartbeatMs: number;
  private readonly now: () => number;
  private heartbeat?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly options: PresenceOptions) {
    this.heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
    this.now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat().catch((error: unknown) => this.options.logger.debug({ err: error }, 'web chat presence heartbeat failed; retried at the next beat')), this.heartbeatMs);
    this.heartbeat.unref();
    // Runs that ended long ago (one document per start): a small collection, so a scan is cheap.
    WebchatRunModel.deleteMany({ seenAt: { $lt: new Date(this.now() - 24 * 3600_000) } }).catch(() => undefined);
  }

  /** Stops the heartbeat and ends this run at once: entries naming it are ignored from now on. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeat);
    for (const timer of this.releases.values()) clearTimeout(timer);
    this.releases.clear();
    await WebchatRunModel.deleteOne({ _id: this.runId }).catch((error: unknown) => this.options.logger.debug({ err: error }, 'could not end the web chat presence run; it goes stale by itself'));
  }

  /** This copy holds a socket of the visitor now: written before the socket gets its history. */
  async hold(visitorId: string): Promise<void> {
    this.connected.add(visitorId);
    clearTimeout(this.releases.get(visitorId));
    this.releases.delete(visitorId);
    if (this.held.has(visitorId)) return;
    await this.perVisitor.run(visitorId, async () => {
      if (this.held.has(visitorId) || this.stopped) return;
      await WebchatVisitorModel.updateOne({ _id: visitorId }, { $addToSet: { holders: this.runId } }, { upsert: true });
      this.held.add(visitorId);
    });
  }

  /** The visitor's last socket on this copy closed: said in the database a moment later, unless they come back. */
  release(visitorId: string): void {
    this.connected.delete(visitorId);
    if (this.releases.has(visitorId) || this.stopped) return;
    const timer = setTimeout(() => {
      this.releases.delete(visitorId);
      void this.perVisitor
        .run(visitorId, async () => {
          if (this.connected.has(visitorId) || !this.held.has(visitorId)) return;
          this.held.delete(visitorId);
          await WebchatVisitorModel.updateOne({ _id: visitorId }, { $pull: { holders: this.runId } });
        })
        .catch((error: unknown) => this.options.logger.debug({ err: error }, 'could not record that a web chat visitor left; the entry goes stale with this run'));
    }, this.options.releaseDelayMs ?? 2000);
    timer.unref();
    this.releases.set(visitorId, timer);
  }

  /** The instance id of another live copy holding a socket of the visitor, if any. Stale entries are removed. */
  async elsewhere(visitorId: string): Promise<string | undefined> {
    const visitor = await WebchatVisitorModel.findById(visitorId, { holders: 1 }).lean();
    const others = (visitor?.holders ?? []).filter((run) => run !== this.runId);
    if (others.length === 0) return undefined;
    const runs = await WebchatRunModel.find({ _id: { $in: others } }).lean();
    const freshSince = this.now() - STALE_BEATS * this.heartbeatMs;
    // An earlier run of this same copy (restarted since) is dead too, whatever its heartbeat says.
    const live = runs.filter((run) => run.seenAt.getTime() >= freshSince && run.instance !== this.options.instanceId);
    const dead = others.filter((run) => !live.some((l) => l._id === run));
    if (dead.length > 0) {
      void WebchatVisitorModel.updateOne({ _id: visitorId }, { $pullAll: { holders: dead } }).catch(() => undefined);
    }
    // The copy the visitor connected to most recently comes last.
    return live.sort((a, b) => others.indexOf(a._id) - others.indexOf(b._id)).at(-1)?.instance;
  }

  private async beat(): Promise<void> {
    await WebchatRunModel.updateOne({ _id: this.runId }, { $set: { instance: this.options.instanceId, seenAt: new Date(this.now()) } }, { upsert: true });
  }
}
