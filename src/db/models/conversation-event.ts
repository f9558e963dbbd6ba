import { Schema, model, type InferSchemaType } from 'mongoose';
import { CONVERSATION_STATUSES } from '../../domain.js';

/** The transition log: one document per status change, read by /stats and the transcript. */
const conversationEventSchema = new Schema({
  conversation: { type: Schema.Types.ObjectId, ref: 'Conversation', required: true },
  at: { type: Date, required: true },
  from: { type: String, enum: [...CONVERSATION_STATUSES, null] },
  to: { type: String, enum: CONVERSATION_STATUSES, required: true },
  actor: {
    kind: { type: String, enum: ['customer', 'operator', 'system'], required: true },
    operatorId: { type: Schema.Types.ObjectId, ref: 'Operator' },
    name: String,
  },
  reason: String,
  comment: String,
});
conversationEventSchema.index({ conversation: 1, at: 1 });
conversationEventSchema.index({ at: 1 });

export type ConversationEvent = InferSchemaType<typeof conversationEventSchema>;
export const ConversationEventModel = model('ConversationEvent', conversationEventSchema);
