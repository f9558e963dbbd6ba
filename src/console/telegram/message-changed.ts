import { MessageModel, type MessageDoc } from '../../db/models/index.js';
import { escapeHtml } from '../../util/html.js';
import { operatorText } from '../../i18n/operator-texts.js';
import type { ConsoleAction, ConsoleContext } from './console-action.js';
import { ignoreNotModified } from './group-calls.js';
import { sendHtml, TEXT_LIMIT } from './group-send.js';
import type { ConsoleTarget } from './target.js';

type Prepared = { message: MessageDoc; target: ConsoleTarget; inPlace?: { senderId: number; html: string } };

/** A message's text as its console copy shows it once changed: the latest text, marked edited or struck out. */
function changedText(message: Pick<MessageDoc, 'text' | 'editedAt' | 'deletedAt'>): string {
  if (message.deletedAt) return `<s>${escapeHtml(message.text)}</s> ${operatorText('console.changed.deletedMark')}`;
  return message.editedAt ? `${escapeHtml(message.text)} ${operatorText('console.changed.editedMark')}` : escapeHtml(message.text);
}

/**
 * The customer edited or deleted a message: its console copy is edited to show it (one call, like a relay), when
 * that copy is one text message a bot of ours sent; otherwise the change is shown as a reply to the copy. Changes
 * made while the item waits ride along: it shows the message as it is when it runs.
 */
export function messageChangedAction(ctx: ConsoleContext): ConsoleAction {
  /** The copy's new text, when it can be edited in place: it shows only text messages (a burst merged into one). */
  async function inPlace(message: MessageDoc): Promise<Prepared['inPlace']> {
    const senderId = message.consoleSenderId ?? undefined;
    if (message.consoleMessageIds.length !== 1 || senderId === undefined || !ctx.hasSender(senderId)) return undefined;
    const shown = await MessageModel.find({ consoleMessageIds: message.consoleMessageIds[0] }).sort({ createdAt: 1 });
    if (shown.some((m) => m.attachments.length > 0)) return undefined;
    const html = [shown[0]?.consoleHead, ...shown.map(changedText)].filter(Boolean).join('\n');
    return html.length <= TEXT_LIMIT ? { senderId, html } : undefined;
  }

  return {
    async plan(item) {
      const message = await MessageModel.findById(item.message);
      const loaded = message && (await ctx.load(message.conversation));
      if (!message || !loaded) return { skip: 'the message no longer exists' };
      if (!message.consoleMessageId) return { skip: 'not shown in the group: its relay shows the latest text' };
      const edit = await inPlace(message);
      return { needs: edit ? { senderId: edit.senderId } : {}, prepared: { message, target: ctx.targetOf(loaded.conversation), inPlace: edit } satisfies Prepared };
    },

    async run(_item, calls, prepared) {
      const { message, target, inPlace: edit } = prepared as Prepared;
      const shownAt = message.consoleMessageId!;
      if (edit) {
        await calls.make({ senderId: edit.senderId }, (api) => api.editMessageText(ctx.groupId, shownAt, edit.html, { parse_mode: 'HTML', link_preview_options: { is_disabled: true } })).catch(ignoreNotModified);
        return { externalId: String(shownAt) };
      }
      const html = message.deletedAt ? operatorText('console.changed.deleted') : operatorText('console.changed.edited', { text: escapeHtml(message.text) });
      const ids = await sendHtml(calls, target, html, { replyTo: shownAt });
      return { externalId: String(ids[0]) };
    },
  };
}
