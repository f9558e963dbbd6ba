import type { Types } from 'mongoose';
import { ChatKeyModel, ConversationModel, CustomerModel, MessageModel, type Conversation, type ConversationDoc, type Customer, type CustomerDoc } from './models/index.js';
import { createIdLoader } from './id-loader.js';

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

const loadCustomerFields = createIdLoader<Customer & { _id: Types.ObjectId }>(CustomerModel);
export async function loadCustomer(id: unknown): Promise<CustomerDoc | null> {
  const fields = await loadCustomerFields(id);
  return fields && CustomerModel.hydrate(fields);
}

const loadConversationFields = createIdLoader<Conversation & { _id: Types.ObjectId }>(ConversationModel);
export async function loadConversation(id: unknown): Promise<ConversationDoc | null> {
  const fields = await loadConversationFields(id);
  return fields && ConversationModel.hydrate(fields);
}
