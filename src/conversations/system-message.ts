import type { Attachment } from '../domain.js';
import { CustomerModel, MessageModel, type ConversationDoc, type MessageDoc } from '../db/models/index.js';
import { requestConsole } from '../console/actions.js';
import { queueForCustomer } from './operator-actions.js';
import { updateConversation } from '../db/serialized-writes.js';
import { insertMessage } from '../db/batched-writes.js';

/**
 * A message the gateway itself sends to the customer (greeting, reminder, survey, closing note).
 * Stored as outbound with a system author, queued on the customer's stream, and shown in the topic.
 * It does not change the status and does not count as an operator's first response.
 */
export async function sendSystemMessage(conversation: ConversationDoc, text: string, options: { attachments?: Attachment[]; showInConsole?: boolean; quickReplies?: string[] } = {}): Promise<MessageDoc> {
  const customer = await CustomerModel.findById(conversation.customer);
  if (!customer) throw new Error(`conversation #${conversation.number} has no customer`);
  const message = new MessageModel({
    conversation: conversation._id,
    channel: conversation.channel,
    direction: 'out',
    author: { kind: 'system', name: 'Gateway' },
    text,
    attachments: options.attachments ?? [],
    ...(options.quickReplies?.length ? { quickReplies: options.quickReplies } : {}),
    delivery: { status: 'pending', at: new Date() },
  });
  message.dedupeKey = `local:${message._id}`;
  await insertMessage(message);
  await updateConversation(conversation._id, { $set: { lastActivityAt: new Date() } });
  await queueForCustomer(conversation, customer.externalChatId, message);
  if (options.showInConsole ?? true) await requestConsole({ action: 'relay', conversation: conversation._id, message: message._id });
  return message;
}
