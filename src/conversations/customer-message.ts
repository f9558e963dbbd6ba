import type { Types } from 'mongoose';
import type { InboundMessage } from '../domain.js';
import { MessageModel, type CustomerDoc, type MessageDoc } from '../db/models/index.js';
import { derivedObjectId } from '../db/derived-id.js';

type MessageKey = Pick<InboundMessage, 'channel' | 'externalMessageId'>;

/** `<channel>:<external message id>`: what makes a customer message the same message when delivered again. */
const dedupeKeyOf = (message: MessageKey): string => `${message.channel}:${message.externalMessageId}`;

/**
 * A customer message's _id, derived from its dedupe key: a message delivered twice gets the same _id, so "seen
 * before?" is a look-up by _id (the one look-up FerretDB's SQLite backend answers from an index) and the unique
 * _id refuses a second copy.
 */
export function customerMessageId(message: MessageKey): Types.ObjectId {
  return derivedObjectId(dedupeKeyOf(message));
}

/**
 * A customer's message as stored in a conversation, not yet inserted. `consoleSkipped` says why the console
 * is deliberately not asked to show it.
 */
export function customerMessageDoc(message: InboundMessage, conversation: Types.ObjectId, customer: Pick<CustomerDoc, 'name'>, consoleSkipped?: 'blocked customer' | 'survey rating'): MessageDoc {
  const dedupeKey = dedupeKeyOf(message);
  return new MessageModel({
    _id: derivedObjectId(dedupeKey),
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
    consoleSkipped,
  });
}
