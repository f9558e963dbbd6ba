import type { Channel, OutboundMessage } from '../domain.js';
import { ConversationModel, CustomerModel, MessageModel } from '../db/models/index.js';
import { DeliveryError } from './errors.js';
import type { ClaimedItem, Deliverer } from './worker.js';

/** Delivers `send` items (an operator's message to a customer) through that customer's channel. */
export function channelDeliverer(channel: Channel): Deliverer {
  return {
    rateBuckets(item) {
      return channel.rateLimits?.(String(item.payload?.externalChatId ?? '')) ?? [];
    },
    async deliver(item: ClaimedItem) {
      const message = await MessageModel.findById(item.message);
      if (!message) throw DeliveryError.permanent('the message to send no longer exists');
      const conversation = await ConversationModel.findById(message.conversation);
      const customer = conversation && (await CustomerModel.findById(conversation.customer));
      if (!customer) throw DeliveryError.permanent('the customer of this conversation no longer exists');
      const outbound: OutboundMessage = {
        text: message.text,
        attachments: message.attachments.map((a) => ({ ...a, kind: a.kind })) as OutboundMessage['attachments'],
        replyToExternalId: message.replyToExternalId ?? undefined,
        meta: message.meta.map((m) => ({ name: m.name ?? '', value: m.value ?? '' })),
      };
      const { externalMessageId } = await channel.send(customer.externalChatId, outbound, { idempotencyKey: String(item._id) });
      return { externalId: externalMessageId };
    },
  };
}
