import { ConversationModel, MessageModel, OutboxItemModel, type Conversation, type MessageDoc, type OutboxItemDoc } from './models/index.js';
import { createInsertBatcher } from './insert-batcher.js';
import { createUpdateBatcher } from './update-batcher.js';

// The documents written for every message in and out, with group commit (see util/group-commit.ts): the message,
// its outbox item, and the update of its conversation (go through serialized-writes.ts for that one).
export const insertMessage = createInsertBatcher<MessageDoc>(MessageModel);
export const insertOutboxItem = createInsertBatcher<OutboxItemDoc>(OutboxItemModel);
export const updateConversationById = createUpdateBatcher<Conversation>(ConversationModel);
