import type { ChannelState } from '../domain.js';
import type { Deliverer } from '../outbox/worker.js';

/** The operators' side of the gateway (a Telegram group). It performs console requests as a deliverer. */
export interface OperatorConsole {
  readonly deliverer: Deliverer<unknown>;
  state(): ChannelState;
  /** Forum: one topic per conversation; reply: operators answer by replying to relayed messages. */
  mode(): 'forum' | 'reply';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Shows that the conversation's customer is typing (a hint that fades by itself; lost when it can't be shown). */
  showTyping?(conversationId: string): void;
}
