import { setTimeout as sleep } from 'node:timers/promises';
import { BotError, GrammyError, type Bot } from 'grammy';
import type { Update } from 'grammy/types';
import type { Logger } from '../../logger.js';
import { isDatabaseUnavailable } from '../../db/errors.js';
import { backoffDelay } from '../../outbox/backoff.js';
import { Pause } from '../../util/pause.js';

export interface ConfirmingPollerOptions {
  logger: Logger;
  allowedUpdates: ReadonlyArray<'message' | 'edited_message' | 'callback_query'>;
  /** Long-poll timeout of one getUpdates call, in seconds. */
  pollTimeoutSeconds?: number;
  /** Updates handled at once; Telegram returns at most 100 per call. */
  maxInFlight?: number;
}

/** Attempts at an update whose handling fails for a reason other than a database outage. */
const OTHER_FAILURE_ATTEMPTS = 3;

/** When nothing new came back because every returned update is still being handled, look again after this. */
const BUSY_RECHECK_MS = 1000;

/**
 * Long polling that confirms an update to Telegram only once it was handled. Telegram takes a `getUpdates`
 * offset as the confirmation of every update below it and never sends those again, so the offset asked for is
 * the oldest update still being handled (or, when none is, one past the newest seen). A crash, or an update
 * waiting out a database outage, leaves the unfinished ones unconfirmed: Telegram sends them again, and the
 * inbox's deduplication absorbs what was stored meanwhile.
 *
 * grammY's runner confirms updates as soon as it fetched them, which lost every update still in memory when
 * the process died.
 */
export class ConfirmingPoller {
  private readonly inFlight = new Map<number, Promise<void>>();
  /** Handled updates at or above the offset last asked for: Telegram may return them once more. */
  private readonly handled = new Set<number>();
  private nextOffset = 0;
  private running = false;
  private stopping = new AbortController();
  private abort?: AbortController;
  private loopDone?: Promise<void>;
  private readonly pause = new Pause();

  constructor(
    private readonly bot: Bot,
    private readonly options: ConfirmingPollerOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = new AbortController();
    this.loopDone = this.loop();
  }

  /** Stops fetching and waits for the updates being handled; an update still waiting for the database stays unconfirmed. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    this.abort?.abort();
    this.pause.wake();
    await this.loopDone;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  isRunning(): boolean {
    return this.running;
  }

  private offset(): number {
    return Math.min(this.nextOffset, ...this.inFlight.keys());
  }

  private async loop(): Promise<void> {
    const { logger } = this.options;
    let failures = 0;
    while (this.running) {
      try {
        const offset = this.offset();
        for (const id of this.handled) if (id < offset) this.handled.delete(id);
        const full = this.inFlight.size >= (this.options.maxInFlight ?? 100);
        const updates = full ? [] : await this.fetch(offset);
        failures = 0;
        let fresh = 0;
        for (const update of updates) {
          this.nextOffset = Math.max(this.nextOffset, update.update_id + 1);
          if (this.handled.has(update.update_id) || this.inFlight.has(update.update_id)) continue;
          fresh += 1;
          this.handle(update);
        }
        if (fresh === 0 && this.inFlight.size > 0) await this.pause.for(BUSY_RECHECK_MS);
      } catch (error) {
        if (!this.running) break;
        failures += 1;
        const retryAfter = error instanceof GrammyError ? error.parameters.retry_after : undefined;
        const waitMs = retryAfter !== undefined ? retryAfter * 1000 : backoffDelay(failures, { baseMs: 500, capMs: 30_000 });
        if (failures === 1 || failures % 10 === 0) logger.warn({ err: error, attempt: failures, waitMs }, 'fetching Telegram updates failed; trying again');
        await this.pause.for(waitMs);
      }
    }
  }

  private async fetch(offset: number): Promise<Update[]> {
    this.abort = new AbortController();
    // While updates are being handled, ask without waiting: the call mostly re-reads those, and new ones must not
    // wait behind a long poll.
    const timeout = this.inFlight.size > 0 ? 0 : (this.options.pollTimeoutSeconds ?? 30);
    // grammY types the signal as the abort-controller package's; the platform one is what it uses at run time.
    return this.bot.api.getUpdates({ offset, limit: 100, timeout, allowed_updates: [...this.options.allowedUpdates] }, this.abort.signal as never);
  }

  private handle(update: Update): void {
    const id = update.update_id;
    const run = this.handleUntilStored(update)
      .then((finished) => {
        if (finished) this.handled.add(id);
      })
      .finally(() => {
        this.inFlight.delete(id);
        this.pause.wake();
      });
    this.inFlight.set(id, run);
  }

  /**
   * Handles one update, trying again while the database is unreachable. Returns false when the poller stopped
   * before it could be stored: it stays unconfirmed and comes again after the restart. Any other failure is
   * tried a few times (an error not recognised as an outage may still be one) and then logged and dropped.
   */
  private async handleUntilStored(update: Update): Promise<boolean> {
    const { logger } = this.options;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.bot.handleUpdate(update);
        return true;
      } catch (error) {
        const cause = error instanceof BotError ? error.error : error;
        const context = { err: cause, updateId: update.update_id, chatId: chatOf(update) };
        const outage = isDatabaseUnavailable(cause);
        if (!outage && attempt >= OTHER_FAILURE_ATTEMPTS) {
          logger.error(context, 'handling a Telegram update failed; it is dropped');
          return true;
        }
        if (!this.running) return false;
        if (attempt === 1 || attempt % 10 === 0) logger.warn({ ...context, attempt }, outage ? 'the database is unreachable: the Telegram update stays unconfirmed and is handled again' : 'handling a Telegram update failed; trying again');
        await sleep(backoffDelay(attempt, { baseMs: 500, capMs: 30_000 }), undefined, { signal: this.stopping.signal }).catch(() => undefined);
        if (!this.running) return false;
      }
    }
  }
}

function chatOf(update: Update): number | undefined {
  return (update.message ?? update.edited_message ?? update.callback_query?.message)?.chat.id;
}
