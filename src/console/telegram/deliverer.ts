import type { Types } from 'mongoose';
import { ConversationModel } from '../../db/models/index.js';
import type { ClaimedItem, Deliverer, DeliveryOutcome, Reservation } from '../../outbox/worker.js';
import { DeliveryError } from '../../outbox/errors.js';
import { updateConversation } from '../../db/serialized-writes.js';
import { requestConsole } from '../actions.js';
import { ConsoleContext, type ConsoleAction } from './console-action.js';
import { dashboardAction, reactionAction, topicAction } from './cosmetics.js';
import type { GroupBudget, Grant } from './group-budget.js';
import { GroupCalls } from './group-calls.js';
import { isTopicGone } from './delivery-error.js';
import { alertAnsweredAction, newConversationAlertAction, noticeAction } from './notices.js';
import { messageChangedAction } from './message-changed.js';
import { eraseCopiesAction } from './erase-copies.js';
import { operatorText } from '../../i18n/operator-texts.js';
import { relayAction } from './relay.js';

export interface ConsoleDelivererOptions {
  groupId: number;
  /** Forum mode (a topic per conversation) or reply mode; known after the console checked the group. */
  forum: () => boolean;
  /** The group's send budget, shared by every bot that sends into it and every gateway process. */
  budget: GroupBudget;
  /** A status or relay changed what the dashboard shows. */
  dashboardStale: () => void;
  topicRenameDelayMs: number;
  /** This gateway's instance id: the topic locks it takes name it. */
  instanceId: string;
}


/**
 * Performs the core's console requests in the operators' Telegram group. Nothing is spent on an item that no
 * longer shows anything new (an alert for a chat already taken, a name the topic already has), and an item gets
 * a slot of the group's budget only when no item of a higher priority is waiting for it.
 */
export function telegramConsoleDeliverer(options: ConsoleDelivererOptions): Deliverer<Grant> {
  const ctx = new ConsoleContext(options.groupId, options.forum, options.dashboardStale, options.topicRenameDelayMs, (id) => options.budget.hasSender(id), options.instanceId);
  const actions: Record<string, ConsoleAction> = {
    relay: relayAction(ctx),
    notice: noticeAction(ctx),
    newConversationAlert: newConversationAlertAction(ctx),
    messageChanged: messageChangedAction(ctx),
    alertAnswered: alertAnsweredAction(ctx),
    conversationChanged: topicAction(ctx),
    deliveryStatus: reactionAction(ctx),
    dashboard: dashboardAction(ctx),
    eraseCopies: eraseCopiesAction(ctx),
  };
  const actionOf = (item: ClaimedItem): ConsoleAction => {
    const action = actions[item.action];
    if (!action) throw DeliveryError.permanent(`the console does not know the request "${item.action}"`);
    return action;
  };

  /**
   * Someone deleted the conversation's topic: the topic is forgotten, so the next relay opens a new one and
   * replays the recent messages into it, and the General topic hears of it. This item then runs again.
   */
  async function topicDeleted(conversationId: Types.ObjectId, topicId: number): Promise<DeliveryOutcome> {
    const conversation = await ConversationModel.findById(conversationId);
    if (conversation?.console?.topicId === topicId) {
      await updateConversation(conversationId, { $unset: { 'console.topicId': '', 'console.topicTitle': '', 'console.topicClosed': '' }, $set: { 'console.topicLost': true, 'console.cardShown': false } });
      await requestConsole({ action: 'notice', text: operatorText('delivery.topicDeleted', { number: conversation.number }) });
    }
    return { repeat: true };
  }

  return {
    async reserve(item): Promise<Reservation<Grant>> {
      const priority = item.priority ?? 1;
      const key = String(item._id);
      // Answered from memory first: an item is planned (read from the database) only when a slot could be had.
      const waitMs = options.budget.waitFor(priority, {}, key);
      if (waitMs > 0) return { waitMs };
      const plan = await actionOf(item).plan(item);
      if ('skip' in plan) options.budget.forget(key);
      if (!('needs' in plan)) return plan;
      const answer = await options.budget.take(priority, plan.needs, key);
      return 'sender' in answer ? { grant: answer } : answer;
    },

    async deliver(item, grant) {
      try {
        // Planned again now that the item is ours: the plan made before the claim may be stale (another copy may have
        // run an attempt of this item meanwhile, and opened the topic the stale plan would open again).
        const action = actionOf(item);
        const plan = await action.plan(item);
        if ('skip' in plan) return {};
        if ('waitMs' in plan) return { repeat: true };
        return await action.run(item, new GroupCalls(options.budget, item.priority ?? 1, grant), plan.prepared);
      } catch (error) {
        const topicId = item.conversation && options.forum() ? (await ConversationModel.findById(item.conversation, { console: 1 }).lean())?.console?.topicId : undefined;
        if (topicId && isTopicGone(error)) return topicDeleted(item.conversation!, topicId);
        throw error;
      }
    },
  };
}
