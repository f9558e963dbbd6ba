import { Schema, model } from 'mongoose';

/*
 * Look-up documents addressed by _id. FerretDB 1.24's SQLite backend uses an index only for a filter that names
 * _id values (with the patch in scripts/ensure-ferretdb.sh); any other filter scans the collection. The hot path
 * (every inbound message, every outbox item) therefore reads these by _id instead of querying the big
 * collections by other fields.
 * They are derived data: the main collections remain the truth, with their own unique indexes.
 */

/** One per customer chat on a channel, `_id` = `<channel>:<external chat id>`. */
const chatKeySchema = new Schema({
  _id: { type: String, required: true },
  customer: { type: Schema.Types.ObjectId, ref: 'Customer', required: true },
  openConversation: { type: Schema.Types.ObjectId, ref: 'Conversation' },
  lastConversation: { type: Schema.Types.ObjectId, ref: 'Conversation' },
});
export const ChatKeyModel = model('ChatKey', chatKeySchema);

/** Named counters (conversation numbers, outbox stream sequences): a hint of the last value handed out. */
const counterSchema = new Schema({
  _id: { type: String, required: true },
  value: { type: Number, required: true },
});
export const CounterModel = model('Counter', counterSchema);
