import { Schema, model } from 'mongoose';

/**
 * "This was done once": a reminder sent, an alert raised, a survey asked. The _id names the deed
 * (e.g. `reminder:<conversation>:<awaiting since>:1`); inserting it succeeds for exactly one job run,
 * so a late, duplicated or concurrent run does nothing twice.
 */
const jobMarkSchema = new Schema({
  _id: { type: String, required: true },
  conversation: { type: Schema.Types.ObjectId, ref: 'Conversation' },
  at: { type: Date, required: true },
});
jobMarkSchema.index({ conversation: 1 });

export const JobMarkModel = model('JobMark', jobMarkSchema);
