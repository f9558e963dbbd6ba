import { Schema, model, type InferSchemaType } from 'mongoose';

/**
 * A file of the web chat: uploaded by a visitor, or an operator's attachment kept for the widget to show.
 * Stored in the database (not on local disk) so every gateway copy can serve it; `visitorId` is the only
 * visitor allowed to read it.
 */
const webchatFileSchema = new Schema(
  {
    _id: { type: String, required: true },
    visitorId: { type: String, required: true },
    fileName: { type: String, required: true },
    mimeType: { type: String, required: true },
    size: { type: Number, required: true },
    data: { type: Buffer, required: true },
  },
  { timestamps: true },
);

export type WebchatFile = InferSchemaType<typeof webchatFileSchema>;
export const WebchatFileModel = model('WebchatFile', webchatFileSchema);
