import { MessageModel } from '../../db/models/index.js';
import type { DeliveryStatus } from '../../domain.js';
import { updateConversation, updateMessage } from '../../db/serialized-writes.js';
import type { ConsoleAction, ConsoleContext } from './console-action.js';
import { ignoreNotModified } from './group-calls.js';
import { recordSent } from './relay.js';
import { DELIVERY_REACTION, topicTitle } from './render.js';
import { dashboardText, showDashboard } from './dashboard.js';

// Cosmetics show the latest state of one thing and cost a call only when what the group shows differs from it.
// They run on whatever budget nothing more important is waiting for; asked for again while waiting, they stay one
// item (see requestConsole).

/**
 * A topic's name (status, priority) and whether it is closed follow its chat. The first change waits
 * `topicRenameDelayMs`, so that a flip and back within an exchange (awaiting → active → awaiting) costs nothing.
 */
export function topicAction(ctx: ConsoleContext): ConsoleAction {
  return {
    async plan(item) {
      const settlesAt = new Date(item.createdAt).getTime() + ctx.topicRenameDelayMs;
      if (Date.now() < settlesAt) return { waitMs: settlesAt - Date.now() };
      const loaded = await ctx.load(item.conversation);
      const topicId = loaded?.conversation.console?.topicId;
      if (!loaded || !ctx.forum() || !topicId) return { skip: 'the chat has no topic' };
      const title = topicTitle(loaded.conversation, loaded.customer);
      const closed = loaded.conversation.status === 'closed' || loaded.conversation.status === 'archived';
      const rename = title !== loaded.conversation.console?.topicTitle;
      if (!rename && closed === Boolean(loaded.conversation.console?.topicClosed)) return { skip: 'the topic shows the chat as it is' };
      return { needs: { manageTopics: true }, prepared: { conversation: loaded.conversation, topicId, title, closed, rename } };
    },

    async run(_item, calls, prepared) {
      const { conversation, topicId, title, closed, rename } = prepared as { conversation: { _id: unknown; console?: { topicClosed?: boolean | null } | null }; topicId: number; title: string; closed: boolean; rename: boolean };
      ctx.dashboardStale();
      if (rename) {
        await calls.make({ manageTopics: true }, (api) => api.editForumTopic(ctx.groupId, topicId, { name: title })).catch(ignoreNotModified);
        await recordSent(() => updateConversation(String(conversation._id), { $set: { 'console.topicTitle': title } }));
        // Closing or reopening is a call of its own, on a slot of its own.
        return closed !== Boolean(conversation.console?.topicClosed) ? { repeat: true } : {};
      }
      await calls.make({ manageTopics: true }, (api) => (closed ? api.closeForumTopic(ctx.groupId, topicId) : api.reopenForumTopic(ctx.groupId, topicId))).catch(ignoreNotModified);
      await recordSent(() => updateConversation(String(conversation._id), { $set: { 'console.topicClosed': closed } }));
      return {};
    },
  };
}

/** An operator's answer shows its latest delivery state as a reaction (🕊 sent, 👌 delivered, 👀 read, 💔 failed). */
export function reactionAction(ctx: ConsoleContext): ConsoleAction {
  return {
    async plan(item) {
      const message = await MessageModel.findById(item.message, { consoleMessageId: 1, consoleReaction: 1, delivery: 1 }).lean();
      const emoji = DELIVERY_REACTION[message?.delivery?.status as DeliveryStatus];
      if (!message?.consoleMessageId || !emoji) return { skip: 'nothing to react on' };
      if (message.consoleReaction === emoji) return { skip: 'the reaction is shown already' };
      // A bot replaces only its own reaction: one bot, the console's, reacts on every message.
      return { needs: { main: true }, prepared: { messageId: message._id, consoleMessageId: message.consoleMessageId, emoji } };
    },

    async run(_item, calls, prepared) {
      const { messageId, consoleMessageId, emoji } = prepared as { messageId: unknown; consoleMessageId: number; emoji: string };
      await calls.make({ main: true }, (api) => api.setMessageReaction(ctx.groupId, consoleMessageId, [{ type: 'emoji', emoji: emoji as never }]));
      await recordSent(() => updateMessage(String(messageId), { $set: { consoleReaction: emoji } }));
      return {};
    },
  };
}

/** The pinned dashboard in the General topic, edited when what it says has changed. */
export function dashboardAction(ctx: ConsoleContext): ConsoleAction {
  return {
    async plan() {
      const text = await dashboardText();
      if (!text.changed) return { skip: 'the dashboard shows the current figures' };
      return { needs: { main: true }, prepared: text.text };
    },

    async run(_item, calls, prepared) {
      await showDashboard(calls, ctx.groupId, prepared as string);
      return {};
    },
  };
}
