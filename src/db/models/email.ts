import { Schema, model } from 'mongoose';

/*
 * E-mail bookkeeping, read and written by _id only (FerretDB uses an index only for a bare `{ _id }` filter).
 */

/** How far one IMAP mailbox has been read, `_id` = `imap:<user>@<host>/<mailbox>`. */
const emailCursorSchema = new Schema({
  _id: { type: String, required: true },
  /** The mailbox's UIDVALIDITY (a 32-bit number, kept as a string); UIDs are only comparable within one. */
  uidValidity: { type: String, required: true },
  lastUid: { type: Number, required: true },
  updatedAt: { type: Date, required: true },
});
export const EmailCursorModel = model('EmailCursor', emailCursorSchema);

/** A Message-ID the gateway sent, `_id` = the Message-ID with its angle brackets: a reply to it finds its conversation. */
const emailThreadSchema = new Schema({
  _id: { type: String, required: true },
  conversation: { type: Schema.Types.ObjectId, ref: 'Conversation', required: true },
});
export const EmailThreadModel = model('EmailThread', emailThreadSchema);
