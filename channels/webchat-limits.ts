import { SlidingBuckets, TokenBucket, type Limit } from './webchat-rate-limit.js';

/**
 * What one visitor may cost the gateway. A widget stays well inside every budget (it sends `typing` at most every
 * 3 s, no pings of its own, one `message` per queued message, one `received` per reply shown); anything beyond is
 * refused from memory, without a database read, and a socket that keeps trying is closed.
 */

export type FrameKind = 'message' | 'typing' | 'ping' | 'received';

interface Budget {
  burst: number;
  perMinute: number;
}

/** Per socket: every frame (checked before it is parsed), then each kind. */
export const SOCKET_BUDGETS: Record<FrameKind | 'any', Budget> = {
  any: { burst: 120, perMinute: 600 },
  message: { burst: 60, perMinute: 120 },
  typing: { burst: 3, perMinute: 30 },
  ping: { burst: 5, perMinute: 12 },
  received: { burst: 60, perMinute: 240 },
};
/** Per visitor, all their sockets together: twice one socket's. */
const VISITOR_BUDGET_FACTOR = 2;
/** The operators are told a visitor types at most this often (more `typing` frames are dropped quietly). */
export const TYPING_EVERY_MS = 3000;
/** Refused frames a socket may send (20, refilled over a minute) before it is closed. */
export const STRIKES: Budget = { burst: 20, perMinute: 20 };
/** Unreadable or unknown frames a socket may send before it is closed. */
export const MAX_BAD_FRAMES = 3;
/** Messages waiting to be stored, per socket (frames are handled in order; the rest are told to come back). */
export const MAX_WAITING_MESSAGES = 16;
/** A socket whose reader lets this much of our output pile up is dropped. */
export const MAX_BUFFERED_BYTES = 256 * 1024;
/** WebSocket connects of one visitor per minute, whatever their address. */
export const VISITOR_CONNECTS_PER_MINUTE = 30;

/** One socket's budgets. */
export class SocketBudgets {
  private readonly buckets: Record<FrameKind | 'any', TokenBucket>;
  private readonly strikes: TokenBucket;

  constructor(now: () => number) {
    const bucket = ({ burst, perMinute }: Budget) => new TokenBucket(burst, perMinute, now);
    this.buckets = { any: bucket(SOCKET_BUDGETS.any), message: bucket(SOCKET_BUDGETS.message), typing: bucket(SOCKET_BUDGETS.typing), ping: bucket(SOCKET_BUDGETS.ping), received: bucket(SOCKET_BUDGETS.received) };
    this.strikes = bucket(STRIKES);
  }

  take(kind: FrameKind | 'any'): boolean {
    return this.buckets[kind].take();
  }

  /** Counts a refused frame; false once the socket has used up its strikes. */
  strike(): boolean {
    return this.strikes.take();
  }
}

export interface RateSettings {
  ratePerMinute: number;
  ipRatePerMinute: number;
  ipConnectsPerMinute: number;
  uploadBytesPerHour: number;
  ipUploadBytesPerHour: number;
}

/** The budgets shared by a visitor's sockets and requests, and by everyone behind one address (per process). */
export class VisitorLimits {
  readonly buckets: SlidingBuckets;

  constructor(
    private readonly settings: RateSettings,
    now: () => number,
  ) {
    this.buckets = new SlidingBuckets(now);
  }

  /** Messages and uploads of one visitor. */
  visitor(visitorId: string): Limit {
    return { key: `visitor:${visitorId}`, perMinute: this.settings.ratePerMinute };
  }

  /** Sessions, messages and uploads from one address. */
  address(ip: string): Limit {
    return { key: `ip:${ip}`, perMinute: this.settings.ipRatePerMinute };
  }

  /** A frame of this kind from any of the visitor's sockets. */
  frame(visitorId: string, kind: FrameKind): boolean {
    const { burst, perMinute } = SOCKET_BUDGETS[kind];
    return this.buckets.take([{ key: `frame:${kind}:${visitorId}`, perMinute: perMinute * VISITOR_BUDGET_FACTOR, capacity: burst * VISITOR_BUDGET_FACTOR }]) === 0;
  }

  /** Whether operators should be told now that the visitor types. */
  typingDue(visitorId: string): boolean {
    return this.buckets.take([{ key: `typing:${visitorId}`, perMinute: 60_000 / TYPING_EVERY_MS, capacity: 1 }]) === 0;
  }

  /** A WebSocket connect: refused with the reason and the wait, or undefined. */
  connect(ip: string, visitorId: string | undefined): { reason: 'address_rate' | 'visitor_rate'; waitMs: number } | undefined {
    const byAddress = this.buckets.take([{ key: `connect:ip:${ip}`, perMinute: this.settings.ipConnectsPerMinute }]);
    if (byAddress > 0) return { reason: 'address_rate', waitMs: byAddress };
    const byVisitor = visitorId ? this.buckets.take([{ key: `connect:visitor:${visitorId}`, perMinute: VISITOR_CONNECTS_PER_MINUTE }]) : 0;
    if (byVisitor > 0) return { reason: 'visitor_rate', waitMs: byVisitor };
    return undefined;
  }

  /** Upload volume of the visitor and of the address: bytes per hour, as buckets refilled every minute. */
  uploadVolume(visitorId: string, ip: string): Limit[] {
    return [
      { key: `bytes:visitor:${visitorId}`, perMinute: this.settings.uploadBytesPerHour / 60, capacity: this.settings.uploadBytesPerHour },
      { key: `bytes:ip:${ip}`, perMinute: this.settings.ipUploadBytesPerHour / 60, capacity: this.settings.ipUploadBytesPerHour },
    ];
  }

  /** Forgets buckets that are full again. */
  sweep(): void {
    this.buckets.sweep();
  }
}
