import { Schema, model } from 'mongoose';

/**
 * One slot of a rate budget shared by every gateway process on the database: `_id` = `<budget>:<slot number>`.
 * Inserting it is the permission to send in that slot; the unique _id grants it to exactly one sender, on
 * MongoDB and on FerretDB alike. Old slots are deleted by their budget.
 */
const sendSlotSchema = new Schema({
  _id: { type: String, required: true },
  budget: { type: String, required: true },
  at: { type: Date, required: true },
});
sendSlotSchema.index({ budget: 1, at: 1 });
export const SendSlotModel = model('SendSlot', sendSlotSchema);
