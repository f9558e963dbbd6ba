import { Schema, model } from 'mongoose';

/*
 * The web chat's small per-visitor documents, all addressed by _id (the only filter FerretDB's SQLite backend
 * answers from an index), so that every gateway copy can find out cheaply where a visitor is connected, what their
 * latest messages are, and which of their uploads were never sent.
 */

/**
 * One per web chat visitor, `_id` = visitor id.
 * - `holders`: the runs (WebchatRun ids) of the gateway copies that hold at least one of the visitor's sockets;
 *   a run that died leaves its entry behind, which is ignored once its heartbeat is stale.
 * - `recent`: ids of the visitor's latest messages, oldest first, kept short: the history a widget gets on
 *   connect is read from these by _id instead of querying the messages collection.
 * - `listed`: `recent` is complete (false/absent: the visitor wrote before it was kept; it is filled once).
 */
const webchatVisitorSchema = new Schema({
  _id: { type: String, required: true },
  holders: { type: [String], default: undefined },
  recent: { type: [String], default: undefined },
  listed: Boolean,
});
export const WebchatVisitorModel = model('WebchatVisitor', webchatVisitorSchema);

/** One per start of a gateway copy, `_id` = a random run id: which copy it is and its latest heartbeat. */
const webchatRunSchema = new Schema({
  _id: { type: String, required: true },
  instance: { type: String, required: true },
  seenAt: { type: Date, required: true },
});
export const WebchatRunModel = model('WebchatRun', webchatRunSchema);

/**
 * An uploaded file no message refers to yet, `_id` = the file's id. Deleted when a message sends the file; the
 * ones left after WEBCHAT_UNSENT_UPLOAD_TTL are deleted with their file. The collection holds only recent unsent
 * uploads, so the periodic sweep's query (not by _id) stays cheap on FerretDB.
 */
const webchatUnsentUploadSchema = new Schema({
  _id: { type: String, required: true },
  visitorId: { type: String, required: true },
  at: { type: Date, required: true },
});
export const WebchatUnsentUploadModel = model('WebchatUnsentUpload', webchatUnsentUploadSchema);
