import type { ChannelKind } from '../domain.js';
import { ConversationEventModel, ConversationModel, type ConversationDoc, type CustomerDoc } from '../db/models/index.js';
import { isDuplicateKeyError } from '../db/errors.js';

/**
 * Opens a new conversation for the customer, or returns the one another process opened a moment ago.
 * Numbers are allocated as highest + 1 and retried on the unique index: FerretDB has no atomic counters.
 */
export async function openConversation(customer: CustomerDoc, channel: ChannelKind, at: Date): Promise<{ conversation: ConversationDoc; opened: boolean }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const last = await ConversationModel.findOne({}, { number: 1 }).sort({ number: -1 }).lean();
    const number = (last?.number ?? 0) + 1;
    try {
      const conversation = await ConversationModel.create({
        number,
        customer: customer._id,
        channel,
        status: 'new',
        openKey: String(customer._id),
        lastActivityAt: at,
        createdAt: at,
      });
      await ConversationEventModel.create({ conversation: conversation._id, at, from: null, to: 'new', actor: { kind: 'customer' } });
      return { conversation, opened: true };
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      // Either another process opened this customer's conversation, or took the number: read to know which.
      const existing = await ConversationModel.findOne({ openKey: String(customer._id) });
      if (existing) return { conversation: existing, opened: false };
      await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));
    }
  }
  throw new Error(`could not allocate a conversation number for customer ${customer._id} after 50 attempts`);
}
