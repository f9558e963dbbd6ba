import { Schema, model, type InferSchemaType } from 'mongoose';

/** An auto-replace shortcut (`;thanks`), `_id` = the trigger: expanded in operators' replies before they are sent. */
const shortcutSchema = new Schema(
  {
    _id: { type: String, required: true },
    text: { type: String, required: true },
    createdBy: String,
  },
  { timestamps: true },
);

export type Shortcut = InferSchemaType<typeof shortcutSchema>;
export const ShortcutModel = model('Shortcut', shortcutSchema);
