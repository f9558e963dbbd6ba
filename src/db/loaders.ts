import type { Types } from 'mongoose';
import { ChatKeyModel, ConversationModel, CustomerModel, MessageModel, type ConversationDoc, type CustomerDoc } from './models/index.js';
import { createIdLoader, type Findable } from './id-loader.js';

// The documents the inbox reads for every customer message, read in batches (see id-loader.ts).

/** What the inbox needs of a message it has seen before. */
export interface StoredMessage {
  _id: Types.ObjectId;
  conversation: Types.ObjectId;
  consoleMessageIds?: number[];
  consoleSkipped?: string;
}
export const loadStoredMessage = createIdLoader<StoredMessage>(MessageModel, { conversation: 1, consoleMessageIds: 1, consoleSkipped: 1 });

export interface ChatKey {
  _id: string;
  customer: Types.ObjectId;
  openConversation?: Types.ObjectId;
  lastConversation?: Types.ObjectId;
}
export const loadChatKey = createIdLoader<ChatKey>(ChatKeyModel);

/** A loader that hands out mongoose documents, for callers that change and save what they read. */
function documentLoader<Doc>(model: Findable & { hydrate(fields: object): Doc }): (id: unknown) => Promise<Doc | null> {
  const loadFields = createIdLoader<{ _id: Types.ObjectId }>(model);
  return async (id) => {
    const fields = await loadFields(id);
    return fields && model.hydrate(fields);
  };
}

export const loadCustomer = documentLoader<CustomerDoc>(CustomerModel);
export const loadConversation = documentLoader<ConversationDoc>(ConversationModel);
