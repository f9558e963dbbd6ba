import type { Logger } from '../src/logger.js';
import type { Metrics } from '../src/metrics.js';
import { MAX_BAD_FRAMES, MAX_BUFFERED_BYTES, MAX_WAITING_MESSAGES, SocketBudgets, type VisitorLimits } from './webchat-limits.js';

export const MAX_FRAME_BYTES = 16 * 1024;
/** Close code for a socket that broke the rules (too many frames, unreadable frames): WebSocket's "policy violation". */
export const POLICY_CLOSE = 1008;
/** Replies shown that this socket may still confirm; older ones are forgotten (they stay "sent"). */
const MAX_AWAITING_RECEIPTS = 500;

/** The slice of a `ws` WebSocket the web chat uses. */
export interface VisitorSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  ping(): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): void;
  on(event: 'close' | 'pong', listener: () => void): void;
}

export type MessageFrame = { type: 'message'; clientId?: unknown; text?: unknown; files?: unknown; profile?: unknown; page?: unknown };
/** The visitor edits (new `text`) or deletes one of their messages, named by the widget's id of it. */
export type ChangeFrame = { type: 'edit' | 'delete'; clientId?: unknown; text?: unknown };

export type WebchatMetrics = Pick<Metrics, 'webchatFramesRefused' | 'webchatConnectsRefused' | 'webchatSocketsClosed' | 'webchatUploadsRefused' | 'webchatUnsentUploadsDeleted'>;

export interface ConnectionHandlers {
  /** A `message` frame within the socket's budget; the handler answers it (ack, error) and may `enqueue` work. */
  message(connection: VisitorConnection, frame: MessageFrame): void;
  /** An `edit` or `delete` frame within the message budget. */
  change(connection: VisitorConnection, frame: ChangeFrame): void;
  /** The visitor types (already limited to once every few seconds per visitor). */
  typing(connection: VisitorConnection): void;
  /** The widget showed this reply (one this socket was sent and has not confirmed yet). */
  received(connection: VisitorConnection, messageId: string): void;
}

export interface ConnectionDeps {
  limits: VisitorLimits;
  handlers: ConnectionHandlers;
  logger: Logger;
  metrics?: WebchatMetrics;
  now: () => number;
}

type RefusalReason = 'too_large' | 'malformed' | 'unknown_type' | 'over_budget' | 'queue_full' | 'unexpected_receipt';

const OPEN = 1;

/**
 * One open widget: its frames are checked against the socket's and the visitor's budgets before anything else,
 * messages are stored one at a time in order with a bounded number waiting, and what is sent back is dropped
 * with the socket when its reader does not keep up. A refused frame is counted in /metrics and logged once per
 * socket, at info level and without a stack.
 */
export class VisitorConnection {
  readonly openedAt: number;
  /** Replies sent to this socket that the widget may confirm with `received`. */
  private readonly awaiting = new Set<string>();
  private readonly budgets: SocketBudgets;
  private badFrames = 0;
  private refusalLogged = false;
  private waitingMessages = 0;
  private work: Promise<void> = Promise.resolve();
  private closedBy?: string;

  constructor(
    readonly socket: VisitorSocket,
    readonly visitorId: string,
    readonly ip: string,
    private readonly deps: ConnectionDeps,
  ) {
    this.openedAt = deps.now();
    this.budgets = new SocketBudgets(deps.now);
  }

  get open(): boolean {
    return this.socket.readyState === OPEN && !this.closedBy;
  }

  /** One frame from the widget. */
  receive(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (this.closedBy) return;
    if (!this.budgets.take('any')) return this.refuse('over_budget');
    const frame = parseFrame(data, isBinary);
    if (!frame) return this.bad('malformed');
    const { limits, handlers } = this.deps;
    switch (frame.type) {
      case 'message':
        if (!this.budgets.take('message') || !limits.frame(this.visitorId, 'message')) {
          // The widget waits for an answer to every message it sends: it is told to come back later.
          this.send({ type: 'error', code: 'rate_limited', clientId: typeof frame.clientId === 'string' ? frame.clientId.slice(0, 64) : undefined, retryAfterMs: 5000 });
          return this.refuse('over_budget');
        }
        return handlers.message(this, frame as MessageFrame);
      case 'edit':
      case 'delete':
        // A change costs what a message costs: it is stored and shown to the operators like one.
        if (!this.budgets.take('message') || !limits.frame(this.visitorId, 'message')) return this.refuse('over_budget');
        return handlers.change(this, frame as ChangeFrame);
      case 'typing':
        if (!this.budgets.take('typing') || !limits.frame(this.visitorId, 'typing')) return this.refuse('over_budget');
        if (limits.typingDue(this.visitorId)) handlers.typing(this);
        return;
      case 'ping':
        if (!this.budgets.take('ping') || !limits.frame(this.visitorId, 'ping')) return this.refuse('over_budget');
        return this.send({ type: 'pong' });
      case 'received': {
        if (!this.budgets.take('received') || !limits.frame(this.visitorId, 'received')) return this.refuse('over_budget');
        const ids = Array.isArray(frame.ids) ? frame.ids.slice(0, 100) : [frame.id];
        for (const id of ids) {
          if (typeof id === 'string' && this.awaiting.delete(id)) handlers.received(this, id);
          else this.refuse('unexpected_receipt');
        }
        return;
      }
      default:
        return this.bad('unknown_type');
    }
  }

  /** Queues work behind the frames before it; false (nothing queued) when too many messages already wait. */
  enqueue(task: () => Promise<void>, kind: 'message' | 'history' = 'message'): boolean {
    if (kind === 'message') {
      if (this.waitingMessages >= MAX_WAITING_MESSAGES) {
        this.refuse('queue_full');
        return false;
      }
      this.waitingMessages += 1;
    }
    this.work = this.work
      .then(task)
      .catch((error: unknown) => this.deps.logger.error({ err: error, visitor: this.visitorId }, 'web chat frame failed'))
      .finally(() => {
        if (kind === 'message') this.waitingMessages -= 1;
      });
    return true;
  }

  /** Sends a frame; a socket whose reader lets our output pile up is dropped instead. */
  send(frame: Record<string, unknown>): void {
    if (!this.open) return;
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) return this.drop('slow_reader');
    this.socket.send(JSON.stringify(frame));
  }

  /** A reply shown on this socket, which the widget will confirm. */
  expectReceipt(messageId: string): void {
    if (this.awaiting.size >= MAX_AWAITING_RECEIPTS) this.awaiting.delete(this.awaiting.values().next().value!);
    this.awaiting.add(messageId);
  }

  /** Closes the socket for a reason counted in /metrics (the widget is told why by the close code). */
  close(code: number, reason: string, counted: 'too_many_tabs' | 'abuse' | 'slow_reader'): void {
    if (this.closedBy) return;
    this.closedBy = counted;
    this.deps.metrics?.webchatSocketsClosed.inc({ reason: counted });
    this.socket.close(code, reason);
    // A client that does not answer the closing handshake (a flooder) is cut off instead of read on.
    setTimeout(() => this.socket.terminate(), 1000).unref();
  }

  /** An error the WebSocket library reports for this socket (a frame over the size limit, broken framing). */
  failed(error: unknown): void {
    const code = (error as { code?: string } | undefined)?.code ?? '';
    if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.count('too_large');
    else if (code.startsWith('WS_ERR_')) this.count('malformed');
    else this.deps.logger.debug({ visitor: this.visitorId, error: (error as Error)?.message }, 'web chat socket error');
    this.closedBy ??= 'error';
    this.socket.terminate();
  }

  private refuse(reason: RefusalReason): void {
    this.count(reason);
    if (!this.budgets.strike()) this.close(POLICY_CLOSE, 'too many frames', 'abuse');
  }

  private bad(reason: 'malformed' | 'unknown_type'): void {
    this.count(reason);
    this.badFrames += 1;
    if (this.badFrames >= MAX_BAD_FRAMES) return this.close(POLICY_CLOSE, 'unreadable frames', 'abuse');
    this.send({ type: 'error', code: 'bad_frame' });
  }

  private drop(reason: 'slow_reader'): void {
    if (this.closedBy) return;
    this.closedBy = reason;
    this.deps.metrics?.webchatSocketsClosed.inc({ reason });
    this.deps.logger.info({ visitor: this.visitorId, reason }, 'web chat socket dropped: its reader does not keep up');
    this.socket.terminate();
  }

  /** Counted always, logged once per socket (a visitor cannot fill the logs). */
  private count(reason: RefusalReason): void {
    this.deps.metrics?.webchatFramesRefused.inc({ reason });
    if (this.refusalLogged) return;
    this.refusalLogged = true;
    this.deps.logger.info({ visitor: this.visitorId, reason }, 'web chat frame refused; further refusals on this socket are only counted');
  }
}

type Frame = { type?: unknown; id?: unknown; ids?: unknown; clientId?: unknown };

function parseFrame(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): Frame | undefined {
  if (isBinary) return undefined;
  const raw = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  if (raw.length > MAX_FRAME_BYTES) return undefined;
  try {
    const frame = JSON.parse(raw.toString('utf8')) as unknown;
    return frame && typeof frame === 'object' && !Array.isArray(frame) ? (frame as Frame) : undefined;
  } catch {
    return undefined;
  }
}
