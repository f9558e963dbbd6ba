import type { Channel, SendContext } from '../domain.js';
import { ConversationModel, CustomerModel, MessageModel } from '../db/models/index.js';
import { renderTemplate } from '../templates.js';
import { DeliveryError } from './errors.js';
import type { ClaimedItem, DeliveryOutcome } from './worker.js';

/**
 * An operator's edit or deletion of an answer, at the customer's: done in place where the channel can; an edit
 * elsewhere (or of a message the channel can no longer edit) goes out as a correction that quotes the new text.
 * An answer that never reached the customer has nothing to change there.
 */
export async function changeAtCustomer(channel: Channel, item: ClaimedItem, context: SendContext): Promise<DeliveryOutcome> {
  const message = await MessageModel.findById(item.message);
  if (!message) throw DeliveryError.permanent('the message to change no longer exists');
  const { externalChatId } = item.payload as { externalChatId: string };
  if (!message.externalId) return {};
  if (item.action === 'delete') {
    if (channel.capabilities.delete && channel.delete) await channel.delete(externalChatId, message.externalId, context);
    return {};
  }
  // A text the channel had to split can't be replaced in one message.
  const fits = [message.text, ...message.versions.map((v) => v.text)].every((text) => text.length <= channel.capabilities.maxTextLength);
  if (channel.capabilities.edit && channel.edit && fits && (await channel.edit(externalChatId, message.externalId, message.text, context))) return {};
  const conversation = await ConversationModel.findById(message.conversation);
  const customer = conversation && (await CustomerModel.findById(conversation.customer));
  const correction = await renderTemplate('messages', 'correction', customer?.language ?? undefined, { text: message.text });
  await channel.send(externalChatId, { text: correction, attachments: [], replyToExternalId: message.externalId }, context);
  return {};
}
