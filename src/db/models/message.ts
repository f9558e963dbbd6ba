import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';
import { ATTACHMENT_KINDS, CHANNEL_KINDS } from '../../domain.js';

export const attachmentSchema = new Schema(
  {
    kind: { type: String, enum: ATTACHMENT_KINDS, required: true },
    fileName: String,
    mimeType: String,
    size: Number,
    ref: String,
    dataBase64: String,
    location: { latitude: Number, longitude: Number },
    contact: { name: String, phone: String },
  },
  { _id: false },
);

/** Who wrote or changed a message: the customer, the gateway, or an operator. */
const actorSchema = new Schema(
  {
    kind: { type: String, enum: ['customer', 'operator', 'system'], required: true },
    operatorId: { type: Schema.Types.ObjectId, ref: 'Operator' },
    name: String,
  },
  { _id: false },
);

/** The text a message had before one edit: replaced at `at`, by `by`. */
const versionSchema = new Schema({ text: { type: String, default: '' }, at: { type: Date, required: true }, by: { type: actorSchema, required: true } }, { _id: false });

const messageSchema = new Schema(
  {
    conversation: { type: Schema.Types.ObjectId, ref: 'Conversation', required: true },
    channel: { type: String, enum: CHANNEL_KINDS, required: true },
    direction: { type: String, enum: ['in', 'out', 'note', 'system'], required: true },
    author: {
      kind: { type: String, enum: ['customer', 'operator', 'system'], required: true },
      operatorId: { type: Schema.Types.ObjectId, ref: 'Operator' },
      name: String,
    },
    text: { type: String, default: '' },
    attachments: { type: [attachmentSchema], default: [] },
    /** `<channel>:<external id>` for inbound messages, `local:<_id>` otherwise: the unique dedupe key. */
    dedupeKey: { type: String, required: true },
    /** Id on the customer's channel (inbound: theirs; outbound: returned by the send). */
    externalId: String,
    /** Id of the copy shown in the operator console (Telegram message id), for replies and reactions. */
    consoleMessageId: Number,
    /** Every console message that shows it (a long text is split): a reply to any of them means this chat. */
    consoleMessageIds: { type: [Number], default: [] },
    /** The bot that showed it in the group: only that bot may edit it there. */
    consoleSenderId: Number,
    /** The lines above the text in its console copy (customer card, reply-mode header), to show an edit in place. */
    consoleHead: String,
    /** The delivery reaction shown on the operator's copy, so a state already shown costs no call. */
    consoleReaction: String,
    replyToExternalId: String,
    meta: { type: [{ name: String, value: String, _id: false }], default: [] },
    /** Outbound: answers offered as buttons (OutboundMessage.quickReplies). */
    quickReplies: { type: [String], default: undefined },
    /** Inbound messages the console was deliberately not asked to show. */
    consoleSkipped: { type: String, enum: ['blocked customer', 'survey rating'] },
    delivery: {
      status: { type: String, enum: ['pending', 'sent', 'delivered', 'read', 'failed'] },
      error: String,
      at: Date,
    },
    editedAt: Date,
    /** Earlier texts, oldest first: each edit keeps the text it replaced, who replaced it and when. */
    versions: { type: [versionSchema], default: [] },
    /** Deleted (by the customer on their side, or by an operator with /delete): kept, marked, not shown to the customer. */
    deletedAt: Date,
    deletedBy: { type: actorSchema, default: undefined },
  },
  { timestamps: true },
);
messageSchema.index({ dedupeKey: 1 }, { unique: true });
messageSchema.index({ conversation: 1, createdAt: 1 });
messageSchema.index({ channel: 1, externalId: 1 });
messageSchema.index({ consoleMessageId: 1 });
messageSchema.index({ consoleMessageIds: 1 });

export type Message = InferSchemaType<typeof messageSchema>;
export type MessageDoc = HydratedDocument<Message>;
export const MessageModel = model('Message', messageSchema);
