import { Schema, model, type InferSchemaType } from 'mongoose';

/**
 * One erasure (/forget, or the retention job): who, when, whose internal id, and how much went. Nothing that
 * names or reaches the person, and no text of theirs.
 */
const erasureAuditSchema = new Schema({
  at: { type: Date, required: true },
  /** `operator` for /forget, `retention` for the RETENTION_AFTER job. */
  by: { type: String, enum: ['operator', 'retention'], required: true },
  /** The supervisor's Telegram user id (by: operator). */
  operatorTelegramId: Number,
  /** The erased customer's internal id (a customer who keeps newer chats keeps this id). */
  customer: { type: Schema.Types.ObjectId, required: true },
  customerErased: { type: Boolean, required: true },
  counts: {
    conversations: { type: Number, required: true },
    messages: { type: Number, required: true },
    files: { type: Number, required: true },
    groupTopics: { type: Number, required: true },
    groupMessages: { type: Number, required: true },
  },
});
erasureAuditSchema.index({ at: 1 });

export type ErasureAudit = InferSchemaType<typeof erasureAuditSchema>;
export const ErasureAuditModel = model('ErasureAudit', erasureAuditSchema);
