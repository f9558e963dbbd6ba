import type { InboundChange } from '../domain.js';
import { ConversationModel, CustomerModel, MessageModel, type MessageDoc, type OperatorDoc } from '../db/models/index.js';
import { updateMessage } from '../db/serialized-writes.js';
import { derivedObjectId } from '../db/derived-id.js';
import { enqueue } from '../outbox/enqueue.js';
import { requestConsole } from '../console/actions.js';
import { customerMessageId } from './customer-message.js';
import { operatorText } from '../i18n/operator-texts.js';
import { OperatorActionError, customerStream } from './operator-actions.js';

type Actor = { kind: 'customer' } | { kind: 'operator'; operatorId: unknown; name: string };

const operatorActor = (operator: OperatorDoc): Actor => ({ kind: 'operator', operatorId: operator._id, name: operator.name });

/**
 * A new text for a stored message: the text it replaces is kept as a version (who replaced it, when). Returns the
 * message as it is now, or undefined when nothing changed (the same edit handled again, or a deleted message).
 */
async function reviseText(message: MessageDoc, text: string, by: Actor, at: Date): Promise<MessageDoc | undefined> {
  if (message.deletedAt || message.text === text) return undefined;
  const revised = await updateMessage(message._id, { $set: { text, editedAt: at }, $push: { versions: { text: message.text, at, by } } });
  return revised ?? undefined;
}

/**
 * Queues a change of an answer at the customer's, after its send in the chat's order. One item per message and
 * kind: edits made while one waits ride along (it sends the latest text).
 */
async function queueChangeAtCustomer(message: MessageDoc, action: 'edit' | 'delete'): Promise<void> {
  const conversation = await ConversationModel.findById(message.conversation);
  const customer = conversation && (await CustomerModel.findById(conversation.customer));
  if (!conversation || !customer) return;
  await enqueue({
    _id: derivedObjectId(`${action}:${message._id}`),
    route: conversation.channel,
    action,
    stream: customerStream(conversation.channel, customer.externalChatId),
    conversation: conversation._id,
    message: message._id,
    payload: { externalChatId: customer.externalChatId },
    coalesce: action === 'edit',
  });
}

/** An operator edited their answer (or note) in the group: a version is kept, and the customer sees the new text. */
export async function editAnswer(message: MessageDoc, operator: OperatorDoc, text: string, at = new Date()): Promise<void> {
  const revised = await reviseText(message, text, operatorActor(operator), at);
  if (revised?.direction === 'out') await queueChangeAtCustomer(revised, 'edit');
}

/** `/delete`: the answer is marked deleted (kept for the history) and removed at the customer's where the channel can. */
export async function deleteAnswer(message: MessageDoc, operator: OperatorDoc, at = new Date()): Promise<void> {
  if (message.direction !== 'out') throw new OperatorActionError(operatorText('conversations.deleteOnlyAnswers'));
  if (message.deletedAt) throw new OperatorActionError(operatorText('conversations.deletedAlready'));
  const deleted = await updateMessage(message._id, { $set: { deletedAt: at, deletedBy: operatorActor(operator) } });
  if (deleted) await queueChangeAtCustomer(deleted, 'delete');
}

/** The customer edited or deleted a message on their side: stored (a version, or the mark) and shown to operators. */
export async function recordCustomerChange(change: InboundChange): Promise<boolean> {
  const message = await MessageModel.findById(customerMessageId(change));
  if (!message) return false;
  const changed =
    change.kind === 'edited'
      ? await reviseText(message, change.text ?? '', { kind: 'customer' }, change.at)
      : message.deletedAt
        ? undefined
        : await updateMessage(message._id, { $set: { deletedAt: change.at, deletedBy: { kind: 'customer' } } });
  if (changed) await requestConsole({ action: 'messageChanged', conversation: changed.conversation, message: changed._id });
  return true;
}
