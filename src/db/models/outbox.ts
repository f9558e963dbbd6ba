import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';

/**
 * One thing to say to the outside world. `route` names who delivers it (a channel kind, or `console` for the
 * operator group); `stream` orders it: items of one stream go out one at a time in `seq` order.
 */
const outboxItemSchema = new Schema({
  route: { type: String, required: true },
  action: { type: String, required: true },
  stream: { type: String, required: true },
  seq: { type: Number, required: true },
  /**
   * Who goes first where sends share a budget (the operator group): 1 a customer's words, answers to operators and
   * failure notices; 2 alerts; 3 cosmetics (topic names, reactions, the dashboard).
   */
  priority: { type: Number, default: 1 },
  /** Bumped when an item that shows the latest state (a topic name) is asked for again while it waits. */
  revision: { type: Number, default: 0 },
  payload: { type: Schema.Types.Mixed, default: {} },
  conversation: { type: Schema.Types.ObjectId, ref: 'Conversation' },
  message: { type: Schema.Types.ObjectId, ref: 'Message' },
  /** Delivered items are deleted; failed ones stay, with their last error, for inspection. */
  status: { type: String, enum: ['pending', 'failed'], default: 'pending' },
  attempts: { type: Number, default: 0 },
  /**
   * Only this gateway copy (INSTANCE_ID) may deliver the item until `instanceUntil`: it holds the connection the
   * item must go through (a web chat visitor's socket). After that, any copy may.
   */
  instance: String,
  instanceUntil: Date,
  /** An earlier attempt may have reached the remote before it was recorded (its worker died mid-send). */
  mayRepeat: { type: Boolean, default: false },
  nextAttemptAt: { type: Date, required: true },
  lastError: String,
  createdAt: { type: Date, required: true },
  settledAt: Date,
});
outboxItemSchema.index({ stream: 1, seq: 1 }, { unique: true });
outboxItemSchema.index({ status: 1, seq: 1 });
outboxItemSchema.index({ stream: 1, status: 1, seq: 1 });
outboxItemSchema.index({ message: 1 });

/**
 * A claim on one delivery attempt. Its _id is `<item id>#<n>`: inserting it succeeds for exactly one
 * worker, on MongoDB and on FerretDB alike (whose updates are not atomic), so this is the lock.
 */
const outboxClaimSchema = new Schema({
  _id: { type: String, required: true },
  item: { type: Schema.Types.ObjectId, required: true },
  n: { type: Number, required: true },
  worker: { type: String, required: true },
  leaseUntil: { type: Date, required: true },
  released: { type: Boolean, default: false },
});
outboxClaimSchema.index({ item: 1, n: -1 });

export type OutboxItem = InferSchemaType<typeof outboxItemSchema>;
export type OutboxItemDoc = HydratedDocument<OutboxItem>;
export const OutboxItemModel = model('OutboxItem', outboxItemSchema);
export const OutboxClaimModel = model('OutboxClaim', outboxClaimSchema);
