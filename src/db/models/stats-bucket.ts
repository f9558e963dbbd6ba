import { Schema, model, type InferSchemaType } from 'mongoose';

/**
 * The /stats read model: the report facts (`ConversationFacts`, src/stats/fetch.ts) of the conversations
 * created (`created:<YYYY-MM-DDTHH>`) or closed (`closed:<YYYY-MM-DDTHH>`) in one six-hour UTC block
 * (src/stats/buckets.ts), packed into one JSON string (src/stats/fact-codec.ts). Read and written by `_id` only,
 * by src/stats/facts-store.ts and src/stats/fetch-buckets.ts; derived data, rebuilt daily from the conversations.
 */
const statsBucketSchema = new Schema({
  _id: { type: String, required: true },
  facts: { type: String, required: true },
});

export type StatsBucket = InferSchemaType<typeof statsBucketSchema>;
export const StatsBucketModel = model('StatsBucket', statsBucketSchema);

/**
 * The facts of an erased conversation, without its customer: the conversation is gone, so the daily rebuild
 * (which reads the conversations) takes these over as they are. `_id` is the conversation's former id.
 */
const erasedFactSchema = new Schema({
  _id: { type: Schema.Types.ObjectId, required: true },
  createdAt: { type: Date, required: true },
  closedAt: Date,
  /** The anonymous fact, packed like a bucket's (src/stats/fact-codec.ts). */
  fact: { type: String, required: true },
});
erasedFactSchema.index({ createdAt: 1 });
erasedFactSchema.index({ closedAt: 1 });

export const ErasedFactModel = model('ErasedFact', erasedFactSchema);
