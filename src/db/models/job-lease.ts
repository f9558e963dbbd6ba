import { Schema, model, type InferSchemaType } from 'mongoose';

/**
 * One term of a named lease (the Agenda leader, the copy that runs WhatsApp Web). Its _id is `<name>:<epoch>`: taking the lease, first or
 * over an expired holder, is inserting the next epoch, which the unique _id lets exactly one process win.
 * Only the holder updates its own term (renewal), so FerretDB's non-atomic updates do no harm.
 */
const jobLeaseSchema = new Schema({
  _id: { type: String, required: true },
  name: { type: String, required: true },
  epoch: { type: Number, required: true },
  holder: { type: String, required: true },
  acquiredAt: { type: Date, required: true },
  expiresAt: { type: Date, required: true },
});
jobLeaseSchema.index({ name: 1, epoch: -1 });

export type JobLease = InferSchemaType<typeof jobLeaseSchema>;
export const JobLeaseModel = model('JobLease', jobLeaseSchema);
