import type { ChannelKind, ChannelSink, ChannelState } from '../src/domain.js';
import type { Logger } from '../src/logger.js';

/**
 * A channel's up/down state, reported to the sink only when it changes: a connection that keeps failing is
 * one 'down' for the operators, not one per attempt or per message.
 */
export class ChannelStateTracker {
  private current: ChannelState = 'stopped';
  private sink?: ChannelSink;

  constructor(
    private readonly kind: ChannelKind,
    private readonly logger: Logger,
  ) {}

  attach(sink: ChannelSink): void {
    this.sink = sink;
  }

  get(): ChannelState {
    return this.current;
  }

  set(state: ChannelState, detail?: string): void {
    if (state === this.current) return;
    this.current = state;
    if (state === 'down') this.logger.warn({ detail }, `${this.kind} channel is down`);
    else this.logger.info({ detail }, `${this.kind} channel is ${state}`);
    try {
      this.sink?.stateChanged?.(this.kind, state, detail);
    } catch (error) {
      this.logger.error({ err: error }, 'state listener failed');
    }
  }
}

/** Resolves after `ms`, or at once when the signal aborts (a stopping channel must not wait out its backoff). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
