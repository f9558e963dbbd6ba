import pRetry from 'p-retry';
import type { ChannelSink, InboundChange, InboundMessage } from './domain.js';
import { isDatabaseUnavailable } from './db/errors.js';
import type { Logger } from './logger.js';

export interface StoreRetryOptions {
  /** Give up after this long (the caller then logs the message as not stored). */
  maxRetryTimeMs?: number;
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
}

/**
 * For channels that can't get a message again once they took it (a Telegram update, a WhatsApp Web event):
 * keeps trying to store it while the database is unreachable, with backoff. Anything else fails at once, to
 * the caller, whose error boundary logs it. The message waits in memory, so a crash during the outage still
 * loses it.
 */
export async function storeWithRetry(sink: ChannelSink, message: InboundMessage | InboundChange, logger: Logger, options: StoreRetryOptions = {}): Promise<void> {
  const context = { channel: message.channel, externalMessageId: message.externalMessageId };
  // A change (an edit, a deletion) is stored the same way as a message.
  const store = async () => ('kind' in message ? sink.changed?.(message) : sink.inbound(message));
  await pRetry(store, {
    retries: Number.POSITIVE_INFINITY,
    maxRetryTime: options.maxRetryTimeMs ?? 60 * 60_000,
    minTimeout: options.minTimeoutMs ?? 500,
    maxTimeout: options.maxTimeoutMs ?? 30_000,
    randomize: true,
    shouldRetry: ({ error }) => isDatabaseUnavailable(error),
    onFailedAttempt: ({ error, attemptNumber }) => {
      if (attemptNumber === 1 || attemptNumber % 10 === 0) logger.warn({ ...context, err: error, attempt: attemptNumber }, 'could not store a customer message; retrying while the database is unreachable');
    },
  });
}
