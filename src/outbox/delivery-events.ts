import type { DeliveryStatus } from '../domain.js';
import { CustomerModel, ConversationModel, MessageModel } from '../db/models/index.js';
import { CONSOLE_ROUTE, GENERAL_STREAM, requestConsole } from '../console/actions.js';
import { enqueue } from './enqueue.js';
import type { OutboxEvents } from './worker.js';
import { updateMessage } from '../db/serialized-writes.js';
import { operatorText } from '../i18n/operator-texts.js';
import { escapeHtml } from '../util/html.js';

/** Looks like "the user blocked the bot / messages from the community": the customer can't be reached. */
const BLOCKED = /block|deactivated|forbidden|not allowed to send/i;

/**
 * What follows a settled outbox item: the message's delivery status is recorded and shown on the operator's
 * copy; a failure is shown with its reason, so nothing is lost silently.
 */
export function deliveryEvents(): OutboxEvents {
  return {
    async delivered(item, result) {
      if (item.route === CONSOLE_ROUTE || !item.message || item.action !== 'send') return;
      await setDelivery(item.message, 'sent', undefined, result.externalId);
    },
    async failed(item, reason) {
      if (item.route === CONSOLE_ROUTE) {
        // The console itself could not show something: say so in the General topic, once, without recursing.
        if (item.action !== 'notice' && item.stream !== GENERAL_STREAM) {
          await enqueue({ route: CONSOLE_ROUTE, action: 'notice', stream: GENERAL_STREAM, conversation: item.conversation ?? undefined, payload: { text: operatorText('delivery.consoleFailed', { action: item.action, reason }) } });
        }
        return;
      }
      if (!item.message) return;
      if (item.action === 'edit' || item.action === 'delete') return changeFailed(item.message, item.action, reason);
      // The customer is marked first: whoever sees the failed message then also sees why the customer is unreachable.
      if (BLOCKED.test(reason) && item.conversation) {
        const conversation = await ConversationModel.findById(item.conversation);
        if (conversation) await CustomerModel.updateOne({ _id: conversation.customer }, { $set: { unreachable: true } });
      }
      await setDelivery(item.message, 'failed', reason);
    },
  };
}

/** Records a delivery status on an outbound message and asks the console to show it. */
export async function setDelivery(messageId: unknown, status: DeliveryStatus, error?: string, externalId?: string): Promise<void> {
  const set: Record<string, unknown> = { 'delivery.status': status, 'delivery.at': new Date() };
  if (error) set['delivery.error'] = error;
  if (externalId) set.externalId = externalId;
  const message = await updateMessage(String(messageId), { $set: set });
  if (!message) return;
  await requestConsole({ action: 'deliveryStatus', conversation: message.conversation, message: message._id });
  // The reason is not cosmetic: it goes out with the customers' words, under the operator's answer.
  if (status === 'failed') {
    await requestConsole({ action: 'notice', conversation: message.conversation, html: true, text: operatorText('delivery.notDelivered', { reason: escapeHtml(error ?? operatorText('delivery.unknownReason')) }), replyTo: message.consoleMessageId ?? undefined });
  }
}

/** An edit or deletion could not be done at the customer's: the operators hear why, under the answer. */
async function changeFailed(messageId: unknown, action: 'edit' | 'delete', reason: string): Promise<void> {
  const message = await MessageModel.findById(messageId, { conversation: 1, consoleMessageId: 1 }).lean();
  if (!message) return;
  await requestConsole({ action: 'notice', conversation: message.conversation, html: true, text: action === 'edit' ? operatorText('delivery.editFailed', { reason: escapeHtml(reason) }) : operatorText('delivery.deleteFailed', { reason: escapeHtml(reason) }), replyTo: message.consoleMessageId ?? undefined });
}
