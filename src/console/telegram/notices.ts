import { InlineKeyboard, InputFile } from 'grammy';
import type { Types } from 'mongoose';
import { ConversationModel, MessageModel, OperatorModel } from '../../db/models/index.js';
import { escapeHtml } from '../../util/html.js';
import { operatorText } from '../../i18n/operator-texts.js';
import type { NoticeButton, NoticeFile } from '../actions.js';
import type { ConsoleAction, ConsoleContext } from './console-action.js';
import { CAPTION_LIMIT, sendHtml } from './group-send.js';
import { recordSent } from './relay.js';
import { ignoreNotModified } from './group-calls.js';
import { channelLabel, customerName, mention, topicLink } from './render.js';
import { threadOptions, type ConsoleTarget } from './target.js';
import { updateConversation } from '../../db/serialized-writes.js';

interface NoticePayload {
  text: string;
  html?: boolean;
  mention?: 'onDuty' | 'supervisors' | 'owner';
  buttonRows?: Array<{ buttons: NoticeButton[] }>;
  threadId?: number;
  file?: NoticeFile;
  /** Shown as a reply to this message of the group (a "not delivered" notice under the operator's answer). */
  replyTo?: number;
}

/** A text (and maybe a file, or buttons) for the operators: a command's answer, an alert, a report. */
export function noticeAction(ctx: ConsoleContext): ConsoleAction {
  return {
    async plan(item) {
      const payload = item.payload as NoticePayload;
      let target = ctx.general;
      let topicId: number | undefined;
      if (item.conversation) {
        const loaded = await ctx.load(item.conversation);
        if (loaded) target = ctx.targetOf(loaded.conversation);
        topicId = loaded?.conversation.console?.topicId ?? undefined;
      }
      if (payload.threadId && ctx.forum()) target = { chatId: ctx.groupId, threadId: payload.threadId };
      // Buttons call back the bot that sent them: only the console's own bot receives those.
      return { needs: { main: Boolean(payload.buttonRows?.length) }, prepared: { target, outsideTopic: Boolean(item.conversation) && (!topicId || target.threadId !== topicId) } };
    },

    async run(item, calls, prepared) {
      const { target, outsideTopic } = prepared as { target: ConsoleTarget; outsideTopic: boolean };
      // A notice about a chat shown outside the chat's own topic is remembered with it, so an erasure deletes it.
      const remember = (ids: number[]) => (outsideTopic && item.conversation ? recordSent(() => updateConversation(item.conversation!, { $push: { 'console.noticeMessageIds': { $each: ids } } })) : undefined);
      const payload = item.payload as NoticePayload;
      const text = payload.html ? payload.text : escapeHtml(payload.text);
      const mentions = await mentionsFor(payload.mention, item.conversation);
      const html = mentions ? `${text}\n${mentions}` : text;
      const buttons = payload.buttonRows?.length ? InlineKeyboard.from(payload.buttonRows.map((row) => row.buttons.map((b) => InlineKeyboard.text(b.text, b.data)))) : undefined;
      if (payload.file) {
        const input = new InputFile(Buffer.from(payload.file.dataBase64, 'base64'), payload.file.fileName);
        const caption = html.length <= CAPTION_LIMIT ? html : undefined;
        const extra = { ...threadOptions(target), ...(caption ? { caption, parse_mode: 'HTML' as const } : {}) };
        const image = payload.file.mimeType.startsWith('image/');
        const sent = await calls.make<{ message_id: number }>({}, (api) => (image ? api.sendPhoto(ctx.groupId, input, extra) : api.sendDocument(ctx.groupId, input, extra)));
        const more = caption ? [] : await sendHtml(calls, target, html, { buttons });
        await remember([sent.message_id, ...more]);
        return { externalId: String(sent.message_id) };
      }
      const ids = await sendHtml(calls, target, html, { buttons, replyTo: payload.replyTo });
      await remember(ids);
      return { externalId: String(ids[0]) };
    },
  };
}


/** The General topic hears of a new chat, with a Take button: unless someone took or answered it meanwhile. */
export function newConversationAlertAction(ctx: ConsoleContext): ConsoleAction {
  return {
    async plan(item) {
      const loaded = await ctx.load(item.conversation);
      if (!loaded) return { skip: 'the conversation no longer exists' };
      if (loaded.conversation.status !== 'new') return { skip: `the chat is ${loaded.conversation.status} already` };
      return { needs: { main: true }, prepared: loaded };
    },

    async run(_item, calls, prepared) {
      const { conversation, customer } = prepared as NonNullable<Awaited<ReturnType<ConsoleContext['load']>>>;
      const first = await MessageModel.findOne({ conversation: conversation._id, direction: 'in' }, { text: 1 }).sort({ createdAt: 1 }).lean();
      const onDuty = await OperatorModel.find({ onDuty: true, active: true }).lean();
      const preview = first?.text ? `\n“${escapeHtml(first.text.length > 200 ? `${first.text.slice(0, 200)}…` : first.text)}”` : '';
      const link = ctx.forum() && conversation.console?.topicId ? `\n<a href="${topicLink(ctx.groupId, conversation.console.topicId)}">${operatorText('alerts.openChat')}</a>` : '';
      const mentions = onDuty.length ? `\n${onDuty.map(mention).join(' ')}` : '';
      const buttons = new InlineKeyboard().text(operatorText('alerts.take'), `c:take:${conversation._id}`);
      const ids = await sendHtml(calls, ctx.general, `${operatorText('alerts.newChat', { number: conversation.number, channel: channelLabel(conversation.channel), name: escapeHtml(customerName(customer)) })}${preview}${link}${mentions}`, { buttons });
      await recordSent(() => updateConversation(conversation._id, { $set: { 'console.alertMessageId': ids[0] } }));
      return { externalId: String(ids[0]) };
    },
  };
}

/** A chat given an owner (auto-assignment) after its alert was shown: the alert names the owner, without its Take button. */
export function alertAnsweredAction(ctx: ConsoleContext): ConsoleAction {
  return {
    async plan(item) {
      const loaded = await ctx.load(item.conversation);
      const alertMessageId = loaded?.conversation.console?.alertMessageId;
      if (!loaded || !alertMessageId) return { skip: 'no alert was shown' };
      const owner = loaded.conversation.owner ? await OperatorModel.findById(loaded.conversation.owner).lean() : null;
      if (!owner) return { skip: 'the chat has no owner' };
      return { needs: { main: true }, prepared: { alertMessageId, text: operatorText('alerts.assigned', { number: loaded.conversation.number, channel: channelLabel(loaded.conversation.channel), name: escapeHtml(customerName(loaded.customer)), owner: escapeHtml(owner.name) }) } };
    },

    async run(_item, calls, prepared) {
      const { alertMessageId, text } = prepared as { alertMessageId: number; text: string };
      // Without reply_markup the edit removes the inline keyboard.
      await calls.make({ main: true }, (api) => api.editMessageText(ctx.groupId, alertMessageId, text, { parse_mode: 'HTML' })).catch(ignoreNotModified);
      return {};
    },
  };
}

async function mentionsFor(kind: 'onDuty' | 'supervisors' | 'owner' | undefined, conversationId?: Types.ObjectId | null): Promise<string> {
  if (!kind) return '';
  let operators: Array<{ telegramUserId: number; name: string; username?: string | null }> = [];
  if (kind === 'owner' && conversationId) {
    const conversation = await ConversationModel.findById(conversationId, { owner: 1 }).lean();
    operators = conversation?.owner ? await OperatorModel.find({ _id: conversation.owner }).lean() : [];
  }
  if (kind === 'supervisors') operators = await OperatorModel.find({ role: { $in: ['supervisor', 'admin'] }, active: true }).lean();
  if (!operators.length) operators = await OperatorModel.find({ onDuty: true, active: true }).lean();
  return operators.map(mention).join(' ');
}
