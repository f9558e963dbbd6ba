/**
 * Sends webhooks the way Meta does: each delivery is retried until it is answered 2xx (network errors and
 * any other status count as not delivered), with a growing pause, several in flight at once.
 */
export class RetryingWebhookSender {
  acknowledged = 0;
  attempts = 0;
  private readonly queue: Array<{ body: string; headers: Record<string, string> }> = [];
  private running = 0;
  private idle?: () => void;

  constructor(
    private readonly url: string,
    private readonly concurrency = 20,
  ) {}

  send(webhook: { body: string; headers: Record<string, string> }): void {
    this.queue.push(webhook);
    this.pump();
  }

  /** Resolves when every webhook handed over so far was acknowledged. */
  drained(): Promise<void> {
    if (this.queue.length === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => (this.idle = resolve));
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const webhook = this.queue.shift()!;
      this.running += 1;
      void this.deliver(webhook).finally(() => {
        this.running -= 1;
        this.pump();
        if (this.running === 0 && this.queue.length === 0) this.idle?.();
      });
    }
  }

  private async deliver(webhook: { body: string; headers: Record<string, string> }): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.attempts += 1;
      try {
        const response = await fetch(this.url, { method: 'POST', body: webhook.body, headers: webhook.headers, signal: AbortSignal.timeout(20_000) });
        await response.arrayBuffer();
        if (response.ok) {
          this.acknowledged += 1;
          return;
        }
      } catch {
        // Connection refused or reset (the gateway is down): try again, as Meta does.
      }
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** Math.min(attempt, 5))));
    }
  }
}
