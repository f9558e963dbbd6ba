import type { Types, UpdateQuery } from 'mongoose';
import { KeyedMutex } from '../util/keyed-mutex.js';
import { MessageModel, type Conversation, type Message, type MessageDoc } from './models/index.js';
import { updateConversationById } from './batched-writes.js';

// FerretDB applies an update by reading the document, changing it in memory and writing all of it back, so two
// updates of one document at the same moment can undo each other: an operator's /take lost to the console
// noting that the customer card was shown, a relayed message's console id lost to the customer's edit of it.
// Conversations and messages, the documents several paths write, are written through here: one write at a
// time per document in this process. Between gateway processes on FerretDB the race remains; MongoDB has none.
const perDocument = new KeyedMutex();

type Id = Types.ObjectId | string;

/** Runs `work` (reads and writes of this conversation) with no other write of it in between. */
export function withConversationLock<T>(id: Id, work: () => Promise<T>): Promise<T> {
  return perDocument.run(`conversation:${id}`, work);
}

export async function updateConversation(id: Id, update: UpdateQuery<Conversation>): Promise<void> {
  await withConversationLock(id, () => updateConversationById({ id, update }));
}

/** Updates one message by _id and returns it as it is now (null when it does not exist). */
export function updateMessage(id: Id, update: UpdateQuery<Message>): Promise<MessageDoc | null> {
  return perDocument.run(`message:${id}`, () => MessageModel.findOneAndUpdate({ _id: id }, update, { returnDocument: 'after' }));
}
