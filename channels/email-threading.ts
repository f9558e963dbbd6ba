import type { InboundMessage } from '../src/domain.js';
import { ConversationModel, EmailThreadModel, MessageModel, type ConversationDoc, type CustomerDoc } from '../src/db/models/index.js';
import { customerMessageId } from '../src/conversations/customer-message.js';
import { conversationNumberIn } from './email-mail.js';

const metaValue = (message: InboundMessage, name: string) => message.meta?.find((m) => m.name === name)?.value;

/**
 * The conversation an e-mail belongs to when its sender has no open one (createInbox's `resolveConversation`):
 * a Message-ID in In-Reply-To/References that the gateway stored (a customer's mail or an operator's reply),
 * else `[#123]` in the subject. A Message-ID can't be guessed, so it may thread a colleague's mail into the chat;
 * a subject number can, so it only threads the sender's own conversations.
 * Every look-up is by _id, except the rare subject number.
 */
export async function resolveEmailConversation(message: InboundMessage, customer: CustomerDoc): Promise<ConversationDoc | undefined> {
  if (message.channel !== 'email') return undefined;
  const ids = [metaValue(message, 'inReplyTo'), ...(metaValue(message, 'references') ?? '').split(/\s+/).reverse()].filter((id): id is string => Boolean(id));
  for (const id of new Set(ids)) {
    const sent = await EmailThreadModel.findById(id).lean();
    if (sent) {
      const conversation = await ConversationModel.findById(sent.conversation);
      if (conversation) return conversation;
    }
    const received = await MessageModel.findById(customerMessageId({ channel: 'email', externalMessageId: id }), { conversation: 1 }).lean();
    const conversation = received && (await ConversationModel.findById(received.conversation));
    if (conversation) return conversation;
  }
  const number = conversationNumberIn(metaValue(message, 'subject'));
  if (number !== undefined) return (await ConversationModel.findOne({ number, customer: customer._id })) ?? undefined;
  return undefined;
}
