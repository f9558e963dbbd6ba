import { GrammyError, HttpError } from 'grammy';
import { DeliveryError } from '../../outbox/errors.js';

/** Turns a Bot API failure into the outbox's vocabulary: 429 waits, 400/403 are final, the rest is retried. */
export function toDeliveryError(error: unknown): DeliveryError {
  if (error instanceof DeliveryError) return error;
  if (error instanceof GrammyError) {
    if (error.error_code === 429) return DeliveryError.retryAfter(error.parameters.retry_after ?? 1, error.description);
    if (error.error_code === 400 || error.error_code === 403) return DeliveryError.permanent(error.description);
    return DeliveryError.transient(error.description);
  }
  if (error instanceof HttpError) return DeliveryError.transient(`network error talking to Telegram: ${(error.error as Error)?.message ?? error.message}`);
  return DeliveryError.transient((error as Error)?.message ?? String(error));
}

/** Runs a Bot API call, rethrowing its failure as a DeliveryError. */
export async function telegramCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toDeliveryError(error);
  }
}

/** What the Bot API answers for a send into, or a change of, a forum topic that was deleted. */
export function isTopicGone(error: unknown): boolean {
  return error instanceof DeliveryError && /message thread not found|TOPIC_ID_INVALID|TOPIC_DELETED/i.test(error.message);
}
