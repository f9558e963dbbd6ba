import type { ChannelSink } from '../src/domain.js';
import type { Logger } from '../src/logger.js';
import { MessageModel } from '../src/db/models/index.js';

/** Retries while the send is not recorded yet: 0.25 s doubling, about a minute in all. */
const RETRY_BASE_MS = 250;
const MAX_TRIES = 9;
/** Confirmations waiting at once; more are dropped (the message stays "sent"). */
const MAX_WAITING = 5000;

/**
 * The widget confirms each operator message it showed (`received`); this reports it as delivered through the
 * sink, so the operator sees 👌 instead of 🕊. A live push is confirmed within milliseconds, usually before the
 * outbox worker has recorded the send ("sent", with its `wc:` id): until then the confirmation waits and looks
 * again, by _id. Statuses only move forward, so a late or repeated confirmation changes nothing.
 */
export class DeliveryConfirmations {
  private readonly waiting = new Map<string, NodeJS.Timeout | undefined>();
  private sink?: ChannelSink;

  constructor(private readonly logger: Logger) {}

  start(sink: ChannelSink): void {
    this.sink = sink;
  }

  stop(): void {
    for (const timer of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
    this.sink = undefined;
  }

  /** `messageId`: the _id of an outbound Message this process showed the visitor (the caller checked that). */
  confirm(messageId: string): void {
    if (this.waiting.has(messageId) || this.waiting.size >= MAX_WAITING || !this.sink?.deliveryStatus) return;
    this.waiting.set(messageId, undefined);
    void this.attempt(messageId, 0);
  }

  private async attempt(messageId: string, tries: number): Promise<void> {
    let again = false;
    try {
      const message = await MessageModel.findById(messageId, { direction: 1, channel: 1, delivery: 1 }).lean();
      const status = message?.delivery?.status ?? 'pending';
      if (message?.channel === 'webchat' && message.direction === 'out') {
        if (status === 'sent') await this.sink?.deliveryStatus?.('webchat', `wc:${messageId}`, 'delivered');
        else again = status === 'pending';
      }
    } catch (error) {
      this.logger.debug({ err: error, message: messageId }, 'could not record a web chat delivery yet; trying again');
      again = true;
    }
    if (!this.waiting.has(messageId)) return;
    if (!again || tries + 1 >= MAX_TRIES) {
      this.waiting.delete(messageId);
      return;
    }
    const timer = setTimeout(() => void this.attempt(messageId, tries + 1), RETRY_BASE_MS * 2 ** tries);
    timer.unref();
    this.waiting.set(messageId, timer);
  }
}
