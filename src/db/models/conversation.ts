import { Schema, model, type InferSchemaType, type HydratedDocument, type Types } from 'mongoose';
import { CHANNEL_KINDS, CLOSE_REASONS, CONVERSATION_STATUSES, PRIORITIES } from '../../domain.js';

const conversationSchema = new Schema(
  {
    /** Human-friendly #number, unique; allocated by insert-and-retry on its unique index. */
    number: { type: Number, required: true },
    customer: { type: Schema.Types.ObjectId, ref: 'Customer', required: true },
    channel: { type: String, enum: CHANNEL_KINDS, required: true },
    status: { type: String, enum: CONVERSATION_STATUSES, required: true, default: 'new' },
    /**
     * Equals the customer id while the conversation is open and `closed:<id>` afterwards, so the unique
     * index lets a customer have one open conversation even when two processes race to open it.
     */
    openKey: { type: String, required: true },
    /** `<channel>:<external chat id>` of the customer: the _id of its ChatKey look-up document. */
    chatKey: String,
    owner: { type: Schema.Types.ObjectId, ref: 'Operator' },
    transferredFrom: { type: Schema.Types.ObjectId, ref: 'Operator' },
    priority: { type: String, enum: PRIORITIES, default: 'normal' },
    tags: { type: [String], default: [] },
    subject: String,
    closeReason: { type: String, enum: CLOSE_REASONS },
    closeComment: String,
    firstResponseAt: Date,
    lastCustomerMessageAt: Date,
    lastOperatorMessageAt: Date,
    lastActivityAt: { type: Date, required: true },
    closedAt: Date,
    archivedAt: Date,
    firstResponseSeconds: Number,
    resolutionSeconds: Number,
    counts: {
      in: { type: Number, default: 0 },
      out: { type: Number, default: 0 },
      notes: { type: Number, default: 0 },
    },
    rating: { score: Number, comment: String, at: Date },
    /** Where the operator console shows it: a forum topic id, or nothing in reply mode. */
    console: {
      topicId: Number,
      topicTitle: String,
      topicClosed: Boolean,
      alertMessageId: Number,
      /** Answers and alerts about it shown outside its topic (reply mode, General): an erasure deletes them too. */
      noticeMessageIds: { type: [Number], default: undefined },
      cardShown: Boolean,
      /** Its topic was deleted in the group: the next relay opens a new one and replays the recent messages first. */
      topicLost: Boolean,
    },
  },
  { timestamps: true },
);
conversationSchema.index({ number: 1 }, { unique: true });
conversationSchema.index({ openKey: 1 }, { unique: true });
conversationSchema.index({ status: 1, lastActivityAt: -1 });
conversationSchema.index({ customer: 1, status: 1 });
conversationSchema.index({ customer: 1, closedAt: -1 });
conversationSchema.index({ owner: 1, status: 1 });
conversationSchema.index({ 'console.topicId': 1 });
conversationSchema.index({ createdAt: 1 });
conversationSchema.index({ closedAt: 1 });

export type Conversation = InferSchemaType<typeof conversationSchema>;
export type ConversationDoc = HydratedDocument<Conversation>;
export type ConversationId = Types.ObjectId;
export const ConversationModel = model('Conversation', conversationSchema);
export const OPEN_STATUSES = ['new', 'active', 'awaiting', 'transferred'] as const;
