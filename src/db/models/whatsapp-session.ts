import { Schema, model } from 'mongoose';

/*
 * The whatsapp-web.js login (RemoteAuth's zipped browser profile), kept in the database so a restart does not
 * ask for a new QR. The zip is split into base64 chunks (no GridFS: FerretDB has none). A save writes a new
 * version's chunks first and then points the head at it, so a crash mid-save leaves the previous one usable.
 */
const whatsAppSessionSchema = new Schema({
  /** RemoteAuth's session name, e.g. "RemoteAuth" or "RemoteAuth-<clientId>". */
  _id: { type: String, required: true },
  version: { type: String, required: true },
  chunks: { type: Number, required: true },
  size: { type: Number, required: true },
  savedAt: { type: Date, required: true },
});
export const WhatsAppSessionModel = model('WhatsAppSession', whatsAppSessionSchema);

const whatsAppSessionChunkSchema = new Schema({
  session: { type: String, required: true },
  version: { type: String, required: true },
  n: { type: Number, required: true },
  data: { type: String, required: true },
});
whatsAppSessionChunkSchema.index({ session: 1, version: 1, n: 1 }, { unique: true });
export const WhatsAppSessionChunkModel = model('WhatsAppSessionChunk', whatsAppSessionChunkSchema);
