import type { Channel, OutboundMessage } from '../domain.js';
import { ConversationModel, CustomerModel, MessageModel } from '../db/models/index.js';
import { refPrefix, withInlineBytes } from '../attachments.js';
import { DeliveryError } from './errors.js';
import { changeAtCustomer } from './channel-changes.js';
import type { ClaimedItem, Deliverer } from './worker.js';

/**
 * Delivers items on a channel's route: `send` (a stored outbound Message: an operator's reply or a gateway
 * message), `edit` and `delete` of such a message, and `direct` (a text with no conversation yet, e.g. the
 * greeting on Telegram's /start).
 */
export function channelDeliverer(channel: Channel & { attachmentRefPrefix?: string }): Deliverer {
  return {
    rateBuckets(item) {
      return channel.rateLimits?.(String(item.payload?.externalChatId ?? '')) ?? [];
    },
    async deliver(item: ClaimedItem) {
      const context = { idempotencyKey: String(item._id) };
      if (item.action === 'direct') {
        const { externalChatId, text } = item.payload as { externalChatId: string; text: string };
        const { externalMessageId } = await channel.send(externalChatId, { text, attachments: [] }, context);
        return { externalId: externalMessageId };
      }
      if (item.action === 'edit' || item.action === 'delete') return changeAtCustomer(channel, item, context);
      const message = await MessageModel.findById(item.message);
      if (!message) throw DeliveryError.permanent('the message to send no longer exists');
      if (message.deletedAt) throw DeliveryError.permanent('deleted by an operator before it was sent');
      // A send cut short by a crash after it was recorded as sent (the item outlived the record): not again.
      if (item.mayRepeat && message.delivery?.status && message.delivery.status !== 'pending') return { externalId: message.externalId ?? undefined };
      const conversation = await ConversationModel.findById(message.conversation);
      const customer = conversation && (await CustomerModel.findById(conversation.customer));
      if (!customer) throw DeliveryError.permanent('the customer of this conversation no longer exists');
      const attachments = await Promise.all(
        message.attachments.map((stored) => {
          const attachment = stored.toObject() as OutboundMessage['attachments'][number];
          // A channel that understands this reference kind (Telegram's own file ids) sends it as is.
          return refPrefix(attachment.ref) === channel.attachmentRefPrefix ? attachment : withInlineBytes(attachment);
        }),
      );
      const outbound: OutboundMessage = {
        text: message.text,
        attachments,
        replyToExternalId: message.replyToExternalId ?? undefined,
        meta: message.meta.map((m) => ({ name: m.name ?? '', value: m.value ?? '' })),
        ...(message.quickReplies?.length ? { quickReplies: [...message.quickReplies] } : {}),
      };
      const { externalMessageId } = await channel.send(customer.externalChatId, outbound, context);
      return { externalId: externalMessageId };
    },
  };
}
