import { Schema, model, type InferSchemaType } from 'mongoose';

/**
 * An operators' reply template in one language, `_id` = `<name>:<language>` (read by _id). Seeded from
 * templates/replies at start; operators add, edit and remove them with /template. A removed one stays as a
 * tombstone (`removed`), so the next start does not seed it again.
 */
const replyTemplateSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    language: { type: String, required: true },
    text: { type: String, required: true },
    removed: { type: Boolean, default: false },
    updatedBy: String,
  },
  { timestamps: true },
);

export type ReplyTemplate = InferSchemaType<typeof replyTemplateSchema>;
export const ReplyTemplateModel = model('ReplyTemplate', replyTemplateSchema);
