import { MessageModel, OutboxItemModel, type MessageDoc, type OutboxItemDoc } from './models/index.js';
import { createInsertBatcher } from './insert-batcher.js';

// The two documents written for every message in and out, inserted with group commit (see insert-batcher.ts).
export const insertMessage = createInsertBatcher<MessageDoc>(MessageModel);
export const insertOutboxItem = createInsertBatcher<OutboxItemDoc>(OutboxItemModel);
