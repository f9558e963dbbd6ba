import { InlineKeyboard, InputFile, type Api } from 'grammy';
import type { Types } from 'mongoose';
import { ConversationModel, CustomerModel, MessageModel, OperatorModel, OutboxItemModel, type ConversationDoc, type CustomerDoc, type MessageDoc } from '../../db/models/index.js';
import type { Attachment, DeliveryStatus } from '../../domain.js';
import { withInlineBytes } from '../../attachments.js';
import type { ClaimedItem, Deliverer, DeliveryOutcome } from '../../outbox/worker.js';
import { DeliveryError } from '../../outbox/errors.js';
import type { BucketSpec } from '../../outbox/rate-limiter.js';
import type { NoticeButton, NoticeFile } from '../actions.js';
import { escapeHtml } from '../../util/html.js';
import { splitEscaped, splitHtmlByLines } from '../../util/split-text.js';
import { telegramCall } from './delivery-error.js';
import { refreshDashboard } from './dashboard.js';
import { attachmentSummary, channelLabel, customerCard, customerName, DELIVERY_REACTION, mention, topicLink, topicTitle } from './render.js';
import { threadOptions, type ConsoleTarget } from './target.js';
import { updateConversation, updateMessage } from '../../db/serialized-writes.js';
import { requestConsole } from '../actions.js';
import { transcriptLine } from './transcript.js';
import { untilDatabaseAnswers } from '../../db/retry.js';

const TEXT_LIMIT = 4096;
/** Messages replayed into a conversation's new topic after its old one was deleted. */
const REPLAY_MESSAGES = 20;
const MAY_REPEAT = '↻ <i>May repeat: the gateway restarted while it was showing this message.</i>';
const CAPTION_LIMIT = 1024;
/** What the Bot API accepts as an upload. */
const UPLOAD_LIMIT = 50 * 1024 * 1024;

/**
 * The attachment with its bytes, when another channel holds them (a web chat upload, a VK photo) and they fit
 * an upload; as it was otherwise, or when fetching fails (it is then described by name instead of shown).
 */
async function fetchForTelegram(attachment: Attachment): Promise<Attachment> {
  if (attachment.kind === 'location' || attachment.dataBase64 || !attachment.ref || attachment.ref.startsWith('tg:') || (attachment.size ?? 0) > UPLOAD_LIMIT) return attachment;
  const fetched = await withInlineBytes(attachment).catch(() => undefined);
  return fetched && (fetched.size ?? 0) <= UPLOAD_LIMIT ? fetched : attachment;
}

export interface ConsoleDelivererOptions {
  api: Api;
  groupId: number;
  /** Forum mode (a topic per conversation) or reply mode; known after the console checked the group. */
  forum: () => boolean;
  rate: { perGroupPerMinute: number; globalPerSecond: number };
  /** A status or relay changed what the dashboard shows. */
  dashboardStale: () => void;
}

/** Performs the core's console requests in the operators' Telegram group. */
export function telegramConsoleDeliverer(options: ConsoleDelivererOptions): Deliverer {
  const { api, groupId } = options;
  const general: ConsoleTarget = { chatId: groupId };

  function targetOf(conversation: ConversationDoc): ConsoleTarget {
    return options.forum() && conversation.console?.topicId ? { chatId: groupId, threadId: conversation.console.topicId } : general;
  }

  async function sendHtml(target: ConsoleTarget, html: string, extra: { buttons?: InlineKeyboard; replyTo?: number } = {}): Promise<number[]> {
    const ids: number[] = [];
    const pieces = splitHtmlByLines(html, TEXT_LIMIT);
    for (const [index, piece] of pieces.entries()) {
      const last = index === pieces.length - 1;
      const sent = await telegramCall(() =>
        api.sendMessage(target.chatId, piece, {
          parse_mode: 'HTML',
          ...threadOptions(target),
          ...(last && extra.buttons ? { reply_markup: extra.buttons } : {}),
          ...(index === 0 && extra.replyTo ? { reply_parameters: { message_id: extra.replyTo, allow_sending_without_reply: true } } : {}),
          link_preview_options: { is_disabled: true },
        }),
      );
      ids.push(sent.message_id);
    }
    return ids;
  }

  async function loadConversation(id: Types.ObjectId | null | undefined): Promise<{ conversation: ConversationDoc; customer: CustomerDoc }> {
    const conversation = id ? await ConversationModel.findById(id) : null;
    const customer = conversation ? await CustomerModel.findById(conversation.customer) : null;
    if (!conversation || !customer) throw DeliveryError.permanent('the conversation no longer exists');
    return { conversation, customer };
  }

  /** Creates the conversation's topic. Returns true when it did: that API call used this attempt's token. */
  async function ensureTopic(conversation: ConversationDoc, customer: CustomerDoc): Promise<boolean> {
    if (!options.forum() || conversation.console?.topicId) return false;
    const title = topicTitle(conversation, customer);
    const topic = await telegramCall(() => api.createForumTopic(groupId, title));
    await recordSent(() => updateConversation(conversation._id, { $set: { 'console.topicId': topic.message_thread_id, 'console.topicTitle': title, 'console.topicClosed': false } }));
    return true;
  }

  function relayHeader(conversation: ConversationDoc, customer: CustomerDoc, message: MessageDoc): string {
    const lines: string[] = [];
    if (!conversation.console?.cardShown) lines.push(customerCard(conversation, customer));
    else if (!options.forum()) lines.push(`<b>#${conversation.number}</b> · ${escapeHtml(customerName(customer))} (${channelLabel(conversation.channel)})`);
    if (message.direction === 'out' && message.author?.kind === 'system') lines.push('🤖 <i>Sent to the customer by the gateway:</i>');
    return lines.join('\n');
  }

  /**
   * Customer messages that queued up behind this one (a burst while the group's budget was spent) are merged
   * into it, text only and within one Telegram message, so a burst costs one send instead of many.
   */
  async function absorbBacklog(item: ClaimedItem, first: MessageDoc, budget: number): Promise<{ items: Types.ObjectId[]; messages: MessageDoc[] }> {
    if (first.direction !== 'in' || first.attachments.length > 0) return { items: [], messages: [] };
    const following = await OutboxItemModel.find({ stream: item.stream, status: 'pending', seq: { $gt: item.seq } }).sort({ seq: 1 }).limit(50).lean();
    const items: Types.ObjectId[] = [];
    const messages: MessageDoc[] = [];
    let used = escapeHtml(first.text).length;
    for (const next of following) {
      if (next.action !== 'relay' || next.nextAttemptAt > new Date()) break;
      const message = await MessageModel.findById(next.message);
      if (!message || message.direction !== 'in' || message.attachments.length > 0) break;
      used += escapeHtml(message.text).length + 1;
      if (used > budget) break;
      items.push(next._id);
      messages.push(message);
    }
    return { items, messages };
  }

  async function relay(item: ClaimedItem): Promise<DeliveryOutcome> {
    const message = await MessageModel.findById(item.message);
    // Not stored (its storing was interrupted; the channel delivers it again and a new relay is queued), or shown.
    if (!message || message.consoleMessageIds.length > 0) return {};
    const { conversation, customer } = await loadConversation(item.conversation);
    if (await ensureTopic(conversation, customer)) return { repeat: true };
    if (conversation.console?.topicLost) {
      await replayIntoNewTopic(conversation, message);
      return { repeat: true };
    }
    const target = targetOf(conversation);
    const header = [item.mayRepeat ? MAY_REPEAT : '', relayHeader(conversation, customer, message)].filter(Boolean).join('\n');
    const replyTo = message.replyToExternalId ? (await MessageModel.findOne({ channel: message.channel, externalId: message.replyToExternalId }, { consoleMessageId: 1 }).lean())?.consoleMessageId ?? undefined : undefined;

    const ids: number[] = [];
    const absorbed = await absorbBacklog(item, message, TEXT_LIMIT - header.length - 1);
    const texts = [message, ...absorbed.messages].map((m) => m.text).filter(Boolean);
    // Files we hold (Telegram file ids, inline bytes, other channels' files we can fetch) and locations are sent
    // as media; the rest is described.
    const attachments = await Promise.all(message.attachments.map((a) => fetchForTelegram(a.toObject() as Attachment)));
    const sendable = (a: Attachment) => a.kind === 'location' || a.ref?.startsWith('tg:') || Boolean(a.dataBase64);
    const attachmentsToSend = attachments.filter(sendable);
    const unsendable = attachments.filter((a) => !sendable(a));
    const body = [texts.join('\n'), unsendable.length ? attachmentSummary(unsendable) : ''].filter(Boolean).join('\n');

    const bodyPieces = body ? splitEscaped(body, TEXT_LIMIT - header.length - 1) : [];
    const firstText = [header, bodyPieces[0] ?? ''].filter(Boolean).join('\n');
    const captionFits = attachmentsToSend.length > 0 && firstText.length <= CAPTION_LIMIT && bodyPieces.length <= 1;
    for (const [index, attachment] of attachmentsToSend.entries()) {
      const caption = index === 0 && captionFits ? firstText : undefined;
      ids.push(await sendAttachment(target, attachment, caption, index === 0 ? replyTo : undefined));
    }
    if (!captionFits) {
      const pieces = [firstText, ...bodyPieces.slice(1)].filter(Boolean);
      for (const piece of pieces) ids.push(...(await sendHtml(target, piece, { replyTo: ids.length === 0 ? replyTo : undefined })));
    }

    await recordSent(async () => {
      await updateMessage(message._id, { $set: { consoleMessageId: message.consoleMessageId ?? ids[0], consoleMessageIds: ids } });
      if (absorbed.items.length > 0) {
        await Promise.all(absorbed.messages.map((m) => updateMessage(m._id, { $set: { consoleMessageId: ids[0], consoleMessageIds: ids } })));
        await OutboxItemModel.deleteMany({ _id: { $in: absorbed.items } });
      }
      if (!conversation.console?.cardShown) await updateConversation(conversation._id, { $set: { 'console.cardShown': true } });
    });
    options.dashboardStale();
    return { externalId: String(ids[0]) };
  }

  /** The recent messages before `current`, as one transcript in the conversation's new topic. */
  async function replayIntoNewTopic(conversation: ConversationDoc, current: MessageDoc): Promise<void> {
    const recent = (await MessageModel.find({ conversation: conversation._id, _id: { $ne: current._id }, createdAt: { $lte: current.createdAt } }).sort({ createdAt: -1 }).limit(REPLAY_MESSAGES).lean()).reverse();
    if (recent.length > 0) {
      const heading = `♻️ <i>This chat's previous topic was deleted. Its last ${recent.length} messages before this one:</i>`;
      await sendHtml(targetOf(conversation), [heading, ...recent.map(transcriptLine)].join('\n'));
    }
    await updateConversation(conversation._id, { $unset: { 'console.topicLost': '' } });
  }

  /**
   * Someone deleted the conversation's topic: the topic is forgotten, so the next relay opens a new one and
   * replays the recent messages into it, and the General topic hears of it. This item then runs again.
   */
  async function topicDeleted(conversationId: Types.ObjectId, topicId: number): Promise<DeliveryOutcome> {
    const conversation = await ConversationModel.findById(conversationId);
    if (conversation?.console?.topicId === topicId) {
      await updateConversation(conversationId, { $unset: { 'console.topicId': '', 'console.topicTitle': '', 'console.topicClosed': '' }, $set: { 'console.topicLost': true, 'console.cardShown': false } });
      await requestConsole({ action: 'notice', text: `♻️ The topic of chat #${conversation.number} was deleted. Its messages are kept: the chat's next message opens a new topic with the recent ones.` });
    }
    return { repeat: true };
  }

  async function sendAttachment(target: ConsoleTarget, attachment: Attachment, caption?: string, replyTo?: number): Promise<number> {
    const extra = {
      ...threadOptions(target),
      ...(caption ? { caption, parse_mode: 'HTML' as const } : {}),
      ...(replyTo ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } } : {}),
    };
    if (attachment.kind === 'location' && attachment.location?.latitude !== undefined) {
      return (await telegramCall(() => api.sendLocation(target.chatId, attachment.location!.latitude!, attachment.location!.longitude!, threadOptions(target)))).message_id;
    }
    const file = attachment.ref?.startsWith('tg:') ? attachment.ref.slice(3) : new InputFile(Buffer.from(attachment.dataBase64 ?? '', 'base64'), attachment.fileName ?? 'file');
    const chat = target.chatId;
    const call = {
      photo: () => api.sendPhoto(chat, file, extra),
      voice: () => api.sendVoice(chat, file, extra),
      audio: () => api.sendAudio(chat, file, extra),
      video: () => api.sendVideo(chat, file, extra),
      video_note: () => api.sendVideoNote(chat, file, threadOptions(target)),
      sticker: () => api.sendSticker(chat, file, threadOptions(target)),
    }[attachment.kind as 'photo'] ?? (() => api.sendDocument(chat, file, extra));
    return (await telegramCall(call)).message_id;
  }

  async function edited(item: ClaimedItem): Promise<DeliveryOutcome> {
    const { conversation } = await loadConversation(item.conversation);
    const message = await MessageModel.findById(item.message);
    if (!message) throw DeliveryError.permanent('the edited message no longer exists');
    const ids = await sendHtml(targetOf(conversation), `✏️ <i>The customer edited a message:</i>\n${escapeHtml(message.text)}`, { replyTo: message.consoleMessageId ?? undefined });
    return { externalId: String(ids[0]) };
  }

  async function conversationChanged(item: ClaimedItem): Promise<DeliveryOutcome> {
    options.dashboardStale();
    const { conversation, customer } = await loadConversation(item.conversation);
    const topicId = conversation.console?.topicId;
    if (!options.forum() || !topicId) return {};
    const title = topicTitle(conversation, customer);
    const closed = conversation.status === 'closed' || conversation.status === 'archived';
    if (title !== conversation.console?.topicTitle) {
      await telegramCall(() => api.editForumTopic(groupId, topicId, { name: title })).catch(ignoreNotModified);
      await updateConversation(conversation._id, { $set: { 'console.topicTitle': title } });
      if (closed !== Boolean(conversation.console?.topicClosed)) return { repeat: true };
      return {};
    }
    if (closed !== Boolean(conversation.console?.topicClosed)) {
      await telegramCall(() => (closed ? api.closeForumTopic(groupId, topicId) : api.reopenForumTopic(groupId, topicId))).catch(ignoreNotModified);
      await updateConversation(conversation._id, { $set: { 'console.topicClosed': closed } });
    }
    return {};
  }

  async function newConversationAlert(item: ClaimedItem): Promise<DeliveryOutcome> {
    const { conversation, customer } = await loadConversation(item.conversation);
    if (conversation.status !== 'new') return {};
    const first = await MessageModel.findOne({ conversation: conversation._id, direction: 'in' }, { text: 1 }).sort({ createdAt: 1 }).lean();
    const onDuty = await OperatorModel.find({ onDuty: true, active: true }).lean();
    const preview = first?.text ? `\n“${escapeHtml(first.text.length > 200 ? `${first.text.slice(0, 200)}…` : first.text)}”` : '';
    const link = options.forum() && conversation.console?.topicId ? `\n<a href="${topicLink(groupId, conversation.console.topicId)}">Open the chat</a>` : '';
    const mentions = onDuty.length ? `\n${onDuty.map(mention).join(' ')}` : '';
    const buttons = new InlineKeyboard().text('✋ Take', `c:take:${conversation._id}`);
    const ids = await sendHtml(general, `🆕 <b>New chat #${conversation.number}</b> · ${channelLabel(conversation.channel)} · ${escapeHtml(customerName(customer))}${preview}${link}${mentions}`, { buttons });
    await recordSent(() => updateConversation(conversation._id, { $set: { 'console.alertMessageId': ids[0] } }));
    return { externalId: String(ids[0]) };
  }

  async function deliveryStatus(item: ClaimedItem): Promise<DeliveryOutcome> {
    const message = await MessageModel.findById(item.message);
    if (!message?.consoleMessageId) return {};
    const status = message.delivery?.status as DeliveryStatus | undefined;
    const emoji = status ? DELIVERY_REACTION[status] : undefined;
    if (emoji) {
      await telegramCall(() => api.setMessageReaction(groupId, message.consoleMessageId!, [{ type: 'emoji', emoji: emoji as never }]));
    }
    if (status === 'failed') {
      const { conversation } = await loadConversation(message.conversation);
      await sendHtml(targetOf(conversation), `⚠️ <b>Not delivered to the customer:</b> ${escapeHtml(message.delivery?.error ?? 'unknown reason')}`, { replyTo: message.consoleMessageId });
    }
    return {};
  }

  async function notice(item: ClaimedItem): Promise<DeliveryOutcome> {
    const payload = item.payload as { text: string; html?: boolean; mention?: 'onDuty' | 'supervisors' | 'owner'; buttonRows?: Array<{ buttons: NoticeButton[] }>; threadId?: number; file?: NoticeFile };
    let target = general;
    if (item.conversation) target = targetOf((await loadConversation(item.conversation)).conversation);
    if (payload.threadId && options.forum()) target = { chatId: groupId, threadId: payload.threadId };
    const text = payload.html ? payload.text : escapeHtml(payload.text);
    const mentions = await mentionsFor(payload.mention, item.conversation);
    const html = mentions ? `${text}\n${mentions}` : text;
    const buttons = payload.buttonRows?.length ? InlineKeyboard.from(payload.buttonRows.map((row) => row.buttons.map((b) => InlineKeyboard.text(b.text, b.data)))) : undefined;
    if (payload.file) {
      const input = new InputFile(Buffer.from(payload.file.dataBase64, 'base64'), payload.file.fileName);
      const caption = html.length <= CAPTION_LIMIT ? html : undefined;
      const extra = { ...threadOptions(target), ...(caption ? { caption, parse_mode: 'HTML' as const } : {}) };
      const sent = await telegramCall<{ message_id: number }>(() => (payload.file!.mimeType.startsWith('image/') ? api.sendPhoto(groupId, input, extra) : api.sendDocument(groupId, input, extra)));
      if (!caption) await sendHtml(target, html, { buttons });
      return { externalId: String(sent.message_id) };
    }
    const ids = await sendHtml(target, html, { buttons });
    return { externalId: String(ids[0]) };
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

  const handlers: Record<string, (item: ClaimedItem) => Promise<DeliveryOutcome>> = {
    relay,
    edited,
    conversationChanged,
    newConversationAlert,
    deliveryStatus,
    notice,
    dashboard: async () => {
      await refreshDashboard(api, groupId);
      return {};
    },
  };

  return {
    rateBuckets(): BucketSpec[] {
      return [windowBucket(`telegram:group:${groupId}`, options.rate.perGroupPerMinute, 60), windowBucket('telegram:global', options.rate.globalPerSecond, 1)];
    },
    async deliver(item) {
      const handler = handlers[item.action];
      if (!handler) throw DeliveryError.permanent(`the console does not know the request "${item.action}"`);
      try {
        return await handler(item);
      } catch (error) {
        const topicId = item.conversation && options.forum() ? (await ConversationModel.findById(item.conversation, { console: 1 }).lean())?.console?.topicId : undefined;
        if (topicId && isTopicGone(error)) return topicDeleted(item.conversation!, topicId);
        throw error;
      }
    },
  };
}

/**
 * A bucket that never lets more than `limit` sends through in any sliding window of `windowSeconds`, as
 * Telegram counts them: no burst (capacity 1), refilled with the remaining limit - 1 tokens per window.
 */
function windowBucket(key: string, limit: number, windowSeconds: number): BucketSpec {
  return { key, capacity: 1, refillPerSecond: Math.max(limit - 1, 0.5) / windowSeconds };
}

/** Records what a Bot API call did; given up, the retry would show it twice (or open a second topic). */
function recordSent<T>(write: () => Promise<T>): Promise<T> {
  return untilDatabaseAnswers(write);
}

/** What the Bot API answers for a send into, or a change of, a forum topic that was deleted. */
function isTopicGone(error: unknown): boolean {
  return error instanceof DeliveryError && /message thread not found|TOPIC_ID_INVALID|TOPIC_DELETED/i.test(error.message);
}

function ignoreNotModified(error: unknown): void {
  if (error instanceof DeliveryError && /NOT_MODIFIED|not modified/i.test(error.message)) return;
  throw error;
}
