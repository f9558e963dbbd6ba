/**
 * How a deliverer says a send did not go through. Anything else thrown counts as transient.
 * - retry-after: the remote asked us to wait exactly this long (HTTP 429 retry_after); not counted as a failure.
 * - permanent: retrying can't help (403 blocked by the user, 400 bad request); the message is marked failed.
 * - transient: network trouble, 5xx; retried with exponential backoff.
 * - elsewhere: only another gateway copy can deliver it now (it holds the web chat visitor's connection); the
 *   item goes to that copy at once, not counted as a failure.
 */
export class DeliveryError extends Error {
  private constructor(
    readonly kind: 'retry-after' | 'permanent' | 'transient' | 'elsewhere',
    message: string,
    readonly retryAfterMs?: number,
    readonly instance?: string,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }

  static elsewhere(instance: string): DeliveryError {
    return new DeliveryError('elsewhere', `only gateway ${instance} can deliver this now`, undefined, instance);
  }

  static retryAfter(seconds: number, message = `rate limited: retry after ${seconds}s`): DeliveryError {
    return new DeliveryError('retry-after', message, Math.max(0, seconds) * 1000);
  }

  static permanent(message: string): DeliveryError {
    return new DeliveryError('permanent', message);
  }

  static transient(message: string): DeliveryError {
    return new DeliveryError('transient', message);
  }
}
