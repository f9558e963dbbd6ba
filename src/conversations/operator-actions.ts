import type { Attachment, CloseReason } from '../domain.js';
import { ConversationModel, CustomerModel, MessageModel, type ConversationDoc, type MessageDoc, type OperatorDoc } from '../db/models/index.js';
import { enqueue } from '../outbox/enqueue.js';
import { requestConsole } from '../console/actions.js';
import { transition } from './lifecycle.js';
import { updateConversation } from '../db/serialized-writes.js';
import { insertMessage } from '../db/batched-writes.js';
import { derivedObjectId } from '../db/derived-id.js';
import { isDuplicateKeyError } from '../db/errors.js';
import { operatorText } from '../i18n/operator-texts.js';
import { expandShortcuts } from './shortcuts.js';

/** A refusal an operator sees as is: the chat's state or the arguments forbid what they asked. */
export class OperatorActionError extends Error {
  override name = 'OperatorActionError';
}

export function actorOf(operator: OperatorDoc) {
  return { kind: 'operator' as const, operatorId: String(operator._id), name: operator.name };
}

export function customerStream(channel: string, externalChatId: string): string {
  return `${channel}:${externalChatId}`;
}

/**
 * Queues a stored outbound message for the customer's channel, in order with the chat's other sends. Once per
 * message: while its item waits, queueing it again changes nothing.
 */
export async function queueForCustomer(conversation: ConversationDoc, externalChatId: string, message: MessageDoc): Promise<void> {
  await enqueue({
    _id: derivedObjectId(`send:${message._id}`),
    route: conversation.channel,
    action: 'send',
    stream: customerStream(conversation.channel, externalChatId),
    conversation: conversation._id,
    message: message._id,
    payload: { externalChatId },
  });
}

/**
 * An operator's answer: shortcuts expanded, stored, queued for the customer's channel, and the chat moves to
 * awaiting. The first operator to answer an unowned chat becomes its owner. The stored message has the text sent.
 */
export async function replyToCustomer(input: {
  conversation: ConversationDoc;
  operator: OperatorDoc;
  text: string;
  attachments?: Attachment[];
  consoleMessageId?: number;
  /**
   * Names the operator's action (their message in the group): handling it again, as after a crash before Telegram
   * heard it was handled, finds the stored reply instead of sending a second one.
   */
  dedupeKey?: string;
  at?: Date;
  /** Channel-specific instructions for the send, e.g. a WhatsApp template name. */
  meta?: Array<{ name: string; value: string }>;
}): Promise<MessageDoc> {
  let { conversation } = input;
  const { operator } = input;
  if (conversation.status === 'closed' || conversation.status === 'archived') {
    throw new OperatorActionError(operatorText('conversations.reopenToAnswer', { number: conversation.number, state: operatorText(`conversations.state.${conversation.status}`) }));
  }
  const customer = await CustomerModel.findById(conversation.customer);
  if (!customer) throw new OperatorActionError(operatorText('conversations.noCustomer', { number: conversation.number }));
  const at = input.at ?? new Date();
  const message = new MessageModel({
    ...(input.dedupeKey ? { _id: derivedObjectId(input.dedupeKey) } : {}),
    conversation: conversation._id,
    channel: conversation.channel,
    direction: 'out',
    author: { kind: 'operator', operatorId: operator._id, name: operator.name },
    text: await expandShortcuts(input.text),
    attachments: input.attachments ?? [],
    meta: input.meta ?? [],
    consoleMessageId: input.consoleMessageId,
    // A reply to the operator's own answer in the group (/delete in reply mode) finds this chat like any relayed message.
    consoleMessageIds: input.consoleMessageId ? [input.consoleMessageId] : [],
    delivery: { status: 'pending', at },
    createdAt: at,
  });
  message.dedupeKey = input.dedupeKey ?? `local:${message._id}`;
  const stored = await insertOnce(message);
  if (stored !== message) {
    // Handled before: finish what may not have been done then, without counting or sending it twice.
    if (stored.delivery?.status === 'pending') await queueForCustomer(conversation, customer.externalChatId, stored);
    return stored;
  }

  const set: Record<string, unknown> = { lastOperatorMessageAt: at, lastActivityAt: at };
  if (!conversation.firstResponseAt) {
    set.firstResponseAt = at;
    set.firstResponseSeconds = Math.round((at.getTime() - conversation.createdAt.getTime()) / 1000);
  }
  await updateConversation(conversation._id, { $set: set, $inc: { 'counts.out': 1 } });
  await queueForCustomer(conversation, customer.externalChatId, message);

  conversation = (await ConversationModel.findById(conversation._id))!;
  if (conversation.status !== 'awaiting') {
    const owner = conversation.owner && conversation.status !== 'transferred' ? undefined : operator._id;
    await transition(conversation, 'awaiting', { actor: actorOf(operator), reason: 'operator replied', owner });
  }
  return message;
}

/** Inserts the message, or returns the one stored before under its _id (derived from its dedupe key). */
async function insertOnce(message: MessageDoc): Promise<MessageDoc> {
  try {
    return await insertMessage(message);
  } catch (error) {
    const existing = isDuplicateKeyError(error) ? await MessageModel.findById(message._id) : null;
    if (!existing) throw error;
    return existing;
  }
}

/** An internal note: stored with the conversation, never sent to the customer. */
export async function addNote(conversation: ConversationDoc, operator: OperatorDoc, text: string, consoleMessageId?: number, dedupeKey?: string): Promise<MessageDoc> {
  const message = new MessageModel({
    ...(dedupeKey ? { _id: derivedObjectId(dedupeKey) } : {}),
    conversation: conversation._id,
    channel: conversation.channel,
    direction: 'note',
    author: { kind: 'operator', operatorId: operator._id, name: operator.name },
    text,
    consoleMessageId,
  });
  message.dedupeKey = dedupeKey ?? `local:${message._id}`;
  const stored = await insertOnce(message);
  if (stored === message) await updateConversation(conversation._id, { $inc: { 'counts.notes': 1 } });
  return stored;
}

export async function takeConversation(conversation: ConversationDoc, operator: OperatorDoc): Promise<ConversationDoc> {
  if (conversation.owner?.equals(operator._id) && conversation.status === 'active') {
    throw new OperatorActionError(operatorText('conversations.alreadyYours', { number: conversation.number }));
  }
  if (conversation.status === 'active' && conversation.owner && !conversation.owner.equals(operator._id)) {
    throw new OperatorActionError(operatorText('conversations.handledByOther', { number: conversation.number }));
  }
  if (conversation.status === 'closed' || conversation.status === 'archived') {
    throw new OperatorActionError(operatorText('conversations.reopenToTake', { number: conversation.number, state: operatorText(`conversations.state.${conversation.status}`) }));
  }
  return transition(conversation, 'active', { actor: actorOf(operator), reason: 'taken', owner: operator._id });
}

export async function closeConversation(conversation: ConversationDoc, operator: OperatorDoc | undefined, reason: CloseReason, comment?: string): Promise<ConversationDoc> {
  if (conversation.status === 'closed' || conversation.status === 'archived') {
    throw new OperatorActionError(operatorText('conversations.alreadyClosed', { number: conversation.number, state: operatorText(`conversations.state.${conversation.status}`) }));
  }
  return transition(conversation, 'closed', { actor: operator ? actorOf(operator) : { kind: 'system' }, reason, comment });
}

export async function forwardConversation(conversation: ConversationDoc, from: OperatorDoc, to: OperatorDoc, comment?: string): Promise<ConversationDoc> {
  if (conversation.status === 'closed' || conversation.status === 'archived') {
    throw new OperatorActionError(operatorText('conversations.reopenToForward', { number: conversation.number, state: operatorText(`conversations.state.${conversation.status}`) }));
  }
  if (to._id.equals(from._id)) throw new OperatorActionError(operatorText('conversations.forwardToSelf'));
  if (!to.active) throw new OperatorActionError(operatorText('conversations.inactiveOperator', { name: to.name }));
  return transition(conversation, 'transferred', { actor: actorOf(from), reason: 'forwarded', comment, owner: to._id });
}

export async function reopenConversation(conversation: ConversationDoc, operator: OperatorDoc): Promise<ConversationDoc> {
  if (conversation.status !== 'closed') {
    throw new OperatorActionError(
      conversation.status === 'archived'
        ? operatorText('conversations.archivedCannotReopen', { number: conversation.number })
        : operatorText('conversations.notClosed', { number: conversation.number, state: operatorText(`conversations.state.${conversation.status}`) }),
    );
  }
  return transition(conversation, 'active', { actor: actorOf(operator), reason: 'reopened', owner: operator._id });
}

export async function setPriority(conversation: ConversationDoc, priority: 'low' | 'normal' | 'high'): Promise<void> {
  await updateConversation(conversation._id, { $set: { priority } });
  await requestConsole({ action: 'conversationChanged', conversation: conversation._id });
}
