import { Schema, model } from 'mongoose';

/** Small named values the operator console keeps between restarts (the pinned dashboard's message id). */
const consoleStateSchema = new Schema({
  _id: { type: String, required: true },
  value: { type: Schema.Types.Mixed },
  updatedAt: Date,
});

export const ConsoleStateModel = model('ConsoleState', consoleStateSchema);
