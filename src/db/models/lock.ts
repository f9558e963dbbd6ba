import { Schema, model, type InferSchemaType } from 'mongoose';

/**
 * A short exclusive lock held by one process (an auto-assignment round, the opening of a topic): taken by inserting its `_id`, which
 * the unique index grants to exactly one process on MongoDB and FerretDB alike; released by deleting it, and
 * taken over once `expiresAt` has passed (its holder died mid-round).
 */
const lockSchema = new Schema({
  _id: { type: String, required: true },
  holder: { type: String, required: true },
  /** The gateway (its instance id) that took it: a restart after a crash frees what it left at once. */
  instance: { type: String },
  expiresAt: { type: Date, required: true },
});

export type Lock = InferSchemaType<typeof lockSchema>;
export const LockModel = model('Lock', lockSchema);
