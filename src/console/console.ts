import type { ChannelState } from '../domain.js';
import type { Deliverer } from '../outbox/worker.js';

/** The operators' side of the gateway (a Telegram group). It performs console requests as a deliverer. */
export interface OperatorConsole {
  readonly deliverer: Deliverer;
  state(): ChannelState;
  start(): Promise<void>;
  stop(): Promise<void>;
}
