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
