import type { ConsoleAction, ConsoleContext } from './console-action.js';
import { isTopicGone } from './delivery-error.js';

interface EraseCopiesPayload {
  topicId?: number;
  messageIds?: number[];
}

/**
 * Removes an erased conversation's copies from the group: one call per item (a forum topic with everything in it,
 * or a batch of messages), so each is budgeted and retried on its own. Copies already gone count as removed.
 */
export function eraseCopiesAction(ctx: ConsoleContext): ConsoleAction {
  return {
    async plan(item) {
      const { topicId, messageIds } = item.payload as EraseCopiesPayload;
      if (topicId) return { needs: { manageTopics: true } };
      // Deleting others' messages takes an admin: the console's own bot.
      return messageIds?.length ? { needs: { main: true } } : { skip: 'nothing to delete' };
    },

    async run(item, calls) {
      const { topicId, messageIds } = item.payload as EraseCopiesPayload;
      if (topicId) {
        await calls.make({ manageTopics: true }, (api) => api.deleteForumTopic(ctx.groupId, topicId)).catch((error: unknown) => {
          if (!isTopicGone(error)) throw error;
        });
        return {};
      }
      // deleteMessages skips messages that are gone already.
      await calls.make({ main: true }, (api) => api.deleteMessages(ctx.groupId, messageIds!));
      return {};
    },
  };
}

