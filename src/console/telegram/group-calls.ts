import type { Api } from 'grammy';
import { DeliveryError } from '../../outbox/errors.js';
import { toDeliveryError } from './delivery-error.js';
import type { Grant, GroupBudget, GroupSender, SenderNeeds } from './group-budget.js';

/**
 * The Bot API calls of one console item. The first call goes out on the slot the item was granted (if still in time); any further
 * one (a second piece of a long message, an attachment) waits for a slot of its own, so no call is ever made
 * outside the group's budget. A 429 stops the bot that got it for the time Telegram asked.
 */
export class GroupCalls {
  private granted?: Grant;
  /** The bot that made the last call (a reply to its message must find the chat whichever bot sent it). */
  lastSender?: GroupSender;

  constructor(
    private readonly budget: GroupBudget,
    private readonly priority: number,
    granted: Grant,
  ) {
    this.granted = granted;
  }

  async make<T>(needs: SenderNeeds, call: (api: Api) => Promise<T>): Promise<T> {
    const granted = this.granted;
    this.granted = undefined;
    // A grant that went stale while the item was prepared (a slow database) is given up for a fresh slot.
    const usable = granted && this.budget.inTime(granted) && (!needs.main || granted.sender.main) && (!needs.manageTopics || granted.sender.manageTopics) && (needs.senderId === undefined || granted.sender.id === needs.senderId);
    const { sender } = usable ? granted : await this.budget.takeWaiting(this.priority, needs);
    this.lastSender = sender;
    try {
      return await call(sender.api);
    } catch (error) {
      const failure = toDeliveryError(error);
      if (failure.kind === 'retry-after') this.budget.block(sender, failure.retryAfterMs!);
      throw failure;
    }
  }
}

/** "Not modified" answers mean the group already shows what was asked: nothing to do. */
export function ignoreNotModified(error: unknown): void {
  if (error instanceof DeliveryError && /NOT_MODIFIED|not modified/i.test(error.message)) return;
  throw error;
}
