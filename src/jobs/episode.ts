import { ConversationEventModel, ConversationModel, type ConversationDoc } from '../db/models/index.js';

export async function loadConversation(id: string): Promise<ConversationDoc | null> {
  return ConversationModel.findById(id);
}

/**
 * True while the conversation is still in the awaiting period that began at `since`: no status change
 * since then and no customer message. A reminder or auto-close of an earlier period then does nothing.
 */
export async function stillAwaitingSince(conversation: ConversationDoc, since: Date): Promise<boolean> {
  if (conversation.status !== 'awaiting') return false;
  if (conversation.lastCustomerMessageAt && conversation.lastCustomerMessageAt.getTime() > since.getTime()) return false;
  const last = await ConversationEventModel.findOne({ conversation: conversation._id }).sort({ at: -1 }).lean();
  return last?.to === 'awaiting' && last.at.getTime() === since.getTime();
}

/** True while the customer still waits for an answer that they started waiting for at `since`. */
export async function stillWaitingForOperatorSince(conversation: ConversationDoc, since: Date): Promise<boolean> {
  if (!['new', 'active', 'transferred'].includes(conversation.status)) return false;
  if (conversation.lastOperatorMessageAt && conversation.lastOperatorMessageAt.getTime() >= since.getTime()) return false;
  const answeredOrClosed = await ConversationEventModel.exists({ conversation: conversation._id, at: { $gt: since }, to: { $in: ['awaiting', 'closed'] } });
  return answeredOrClosed === null;
}
