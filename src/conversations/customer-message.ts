import type { Types } from 'mongoose';
import type { InboundMessage } from '../domain.js';
import { MessageModel, inboundMessageId, type CustomerDoc, type MessageDoc } from '../db/models/index.js';

/** `<channel>:<external message id>`: what makes a customer message the same message when delivered again. */
export function dedupeKeyOf(message: Pick<InboundMessage, 'channel' | 'externalMessageId'>): string {
  return `${message.channel}:${message.externalMessageId}`;
}

/** A customer's message as stored in a conversation, not yet inserted; its _id comes from the dedupe key. */
export function customerMessageDoc(message: InboundMessage, conversation: Types.ObjectId, customer: Pick<CustomerDoc, 'name'>): MessageDoc {
  const dedupeKey = dedupeKeyOf(message);
  return new MessageModel({
    _id: inboundMessageId(dedupeKey),
    conversation,
    channel: message.channel,
    direction: 'in',
    author: { kind: 'customer', name: customer.name },
    text: message.text,
    attachments: message.attachments,
    dedupeKey,
    externalId: message.externalMessageId,
    replyToExternalId: message.replyToExternalId,
    meta: message.meta ?? [],
    createdAt: message.sentAt,
  });
}
