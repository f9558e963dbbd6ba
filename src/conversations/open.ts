import type { ChannelKind } from '../domain.js';
import { ChatKeyModel, ConversationEventModel, ConversationModel, type ConversationDoc, type CustomerDoc } from '../db/models/index.js';
import { isDuplicateKeyError } from '../db/errors.js';
import { insertWithNextNumber } from '../db/counters.js';
import { KeyedMutex } from '../util/keyed-mutex.js';

// Openings in this process take numbers one at a time, so only other processes can collide on a number.
const numbering = new KeyedMutex();

export function chatKeyOf(channel: string, externalChatId: string): string {
  return `${channel}:${externalChatId}`;
}

/**
 * Opens a new conversation for the customer, or returns the one another process opened a moment ago.
 * Numbers come from a counter made safe by the unique index on `number` (FerretDB has no atomic $inc).
 */
export function openConversation(customer: CustomerDoc, channel: ChannelKind, at: Date): Promise<{ conversation: ConversationDoc; opened: boolean }> {
  return numbering.run('number', async () => {
    const chatKey = chatKeyOf(channel, customer.externalChatId);
    const result = await insertWithNextNumber('conversationNumber', async (number) => {
      try {
        return { conversation: await ConversationModel.create({ number, customer: customer._id, chatKey, channel, status: 'new', openKey: String(customer._id), lastActivityAt: at, createdAt: at }), opened: true };
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        // Either the number was taken (retry with the next) or this customer already has an open conversation.
        const existing = await ConversationModel.findOne({ openKey: String(customer._id) });
        if (existing) return { conversation: existing, opened: false };
        throw error;
      }
    });
    if (result.opened) {
      await ConversationEventModel.create({ conversation: result.conversation._id, at, from: null, to: 'new', actor: { kind: 'customer' } });
    }
    await ChatKeyModel.updateOne({ _id: chatKey }, { $set: { customer: customer._id, openConversation: result.conversation._id, lastConversation: result.conversation._id } }, { upsert: true });
    return result;
  });
}
