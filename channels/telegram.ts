import { Composer, InputFile, type Bot, type Context } from 'grammy';
import type { Message } from 'grammy/types';
import type { Attachment, Channel, ChannelCapabilities, ChannelSink, ChannelState, InboundMessage, OutboundMessage, RateBucket, SendResult } from '../src/domain.js';
import type { Logger } from '../src/logger.js';
import { registerAttachmentSource } from '../src/attachments.js';
import { enqueue } from '../src/outbox/enqueue.js';
import { renderTemplate } from '../src/templates.js';
import { splitText } from '../src/util/split-text.js';
import { telegramCall } from '../src/console/telegram/delivery-error.js';
import { telegramAttachments } from '../src/console/telegram/attachments.js';
import { DeliveryError } from '../src/outbox/errors.js';

const TEXT_LIMIT = 4096;
const CAPTION_LIMIT = 1024;

export interface TelegramChannelOptions {
  bot: Bot;
  apiRoot: string;
  token: string;
  logger: Logger;
  companyName: string;
  rate: { perChatPerSecond: number; globalPerSecond: number };
}

/**
 * Customers who write to the bot in a private chat. Shares the one Bot with the operator console, which
 * owns the update loop; this channel only handles private chats.
 */
export class TelegramChannel implements Channel {
  readonly kind = 'telegram' as const;
  readonly attachmentRefPrefix = 'tg';
  readonly capabilities: ChannelCapabilities = { edit: true, delete: true, typing: true, deliveryReceipts: false, readReceipts: false, buttons: true, maxTextLength: TEXT_LIMIT };
  private current: ChannelState = 'stopped';
  private sink?: ChannelSink;
  private unregisterFiles?: () => void;

  constructor(private readonly options: TelegramChannelOptions) {
    this.privateChats.command('start', (ctx) => this.greet(ctx.chat.id, ctx.from?.language_code, ctx.from?.first_name));
    this.privateChats.on('message', (ctx) => this.inbound(ctx.message));
    // Telegram tells bots of edits in private chats, never of deletions.
    this.privateChats.on('edited_message', async (ctx) => {
      const edited = ctx.editedMessage;
      const at = new Date((edited.edit_date ?? edited.date) * 1000);
      await this.sink?.changed?.({ channel: 'telegram', externalMessageId: telegramMessageKey(edited.chat.id, edited.message_id), kind: 'edited', text: edited.text ?? edited.caption ?? '', at });
    });
  }

  state(): ChannelState {
    return this.current;
  }

  /** Mounted on the shared bot; handles private chats only. */
  readonly composer = new Composer<Context>();
  private readonly privateChats = this.composer.chatType('private');

  async start(sink: ChannelSink): Promise<void> {
    this.sink = sink;
    this.unregisterFiles = registerAttachmentSource('tg', (ref) => this.download(ref.slice(3)));
    this.current = 'up';
  }

  async stop(): Promise<void> {
    this.unregisterFiles?.();
    this.current = 'stopped';
  }

  rateLimits(externalChatId: string): RateBucket[] {
    const { perChatPerSecond, globalPerSecond } = this.options.rate;
    return [
      { key: `telegram:chat:${externalChatId}`, capacity: 1, refillPerSecond: perChatPerSecond },
      { key: 'telegram:global', capacity: globalPerSecond, refillPerSecond: globalPerSecond },
    ];
  }

  async send(externalChatId: string, message: OutboundMessage): Promise<SendResult> {
    const api = this.options.bot.api;
    const chatId = Number(externalChatId);
    let lastId: number | undefined;
    const [first, ...rest] = message.attachments;
    const textFitsCaption = message.text.length <= CAPTION_LIMIT;
    if (first) {
      lastId = await this.sendAttachment(chatId, first, textFitsCaption ? message.text : undefined);
      for (const attachment of rest) lastId = await this.sendAttachment(chatId, attachment);
    }
    // A one-time reply keyboard: a tap sends the button's text as the customer's message.
    const keyboard = message.quickReplies?.length ? { reply_markup: { keyboard: [message.quickReplies.map((text) => ({ text }))], one_time_keyboard: true, resize_keyboard: true } } : {};
    if (message.text && !(first && textFitsCaption)) {
      const pieces = splitText(message.text, TEXT_LIMIT);
      for (const [index, piece] of pieces.entries()) {
        lastId = (await telegramCall(() => api.sendMessage(chatId, piece, index === pieces.length - 1 ? keyboard : {}))).message_id;
      }
    }
    if (lastId === undefined) throw new Error('nothing to send: the message has neither text nor attachments');
    return { externalMessageId: String(lastId) };
  }

  /** The text of a text message, or the caption of a media message (Telegram says which it is by refusing the other). */
  async edit(externalChatId: string, externalMessageId: string, text: string): Promise<boolean> {
    const api = this.options.bot.api;
    const [chatId, messageId] = [Number(externalChatId), Number(externalMessageId)];
    try {
      await telegramCall(() => api.editMessageText(chatId, messageId, text));
    } catch (error) {
      if (isNotModified(error)) return true;
      // Gone, or too old to edit: the customer gets a correction instead.
      if (error instanceof DeliveryError && /can't be edited|message to edit not found/i.test(error.message)) return false;
      if (!(error instanceof DeliveryError && /no text in the message/i.test(error.message))) throw error;
      if (text.length > CAPTION_LIMIT) return false;
      await telegramCall(() => api.editMessageCaption(chatId, messageId, { caption: text })).catch((captionError: unknown) => {
        if (!isNotModified(captionError)) throw captionError;
      });
    }
    return true;
  }

  async delete(externalChatId: string, externalMessageId: string): Promise<void> {
    const api = this.options.bot.api;
    await telegramCall(() => api.deleteMessage(Number(externalChatId), Number(externalMessageId))).catch((error: unknown) => {
      // Deleted already (a retry after the first attempt went through): done.
      if (!(error instanceof DeliveryError && /message to delete not found/i.test(error.message))) throw error;
    });
  }

  private async sendAttachment(chatId: number, attachment: Attachment, caption?: string): Promise<number> {
    const api = this.options.bot.api;
    const other = caption ? { caption } : {};
    if (attachment.kind === 'location' && attachment.location) {
      return (await telegramCall(() => api.sendLocation(chatId, attachment.location!.latitude, attachment.location!.longitude))).message_id;
    }
    if (attachment.kind === 'contact' && attachment.contact) {
      return (await telegramCall(() => api.sendContact(chatId, attachment.contact!.phone ?? '', attachment.contact!.name))).message_id;
    }
    const file = attachment.ref?.startsWith('tg:') ? attachment.ref.slice(3) : new InputFile(Buffer.from(attachment.dataBase64 ?? '', 'base64'), attachment.fileName ?? 'file');
    const send = {
      photo: () => api.sendPhoto(chatId, file, other),
      sticker: () => api.sendSticker(chatId, file),
      voice: () => api.sendVoice(chatId, file, other),
      audio: () => api.sendAudio(chatId, file, other),
      video: () => api.sendVideo(chatId, file, other),
      video_note: () => api.sendVideoNote(chatId, file),
      document: () => api.sendDocument(chatId, file, other),
    }[attachment.kind as 'photo'] ?? (() => api.sendDocument(chatId, file, other));
    return (await telegramCall(send)).message_id;
  }

  private async greet(chatId: number, language: string | undefined, firstName: string | undefined): Promise<void> {
    const text = await renderTemplate('messages', 'greeting', language, { customerName: firstName ?? '', companyName: this.options.companyName });
    await enqueue({ route: 'telegram', action: 'direct', stream: `telegram:${chatId}`, payload: { externalChatId: String(chatId), text } });
  }

  private async inbound(message: Message): Promise<void> {
    const normalized = normalizeTelegramMessage(message);
    if (!normalized) {
      this.options.logger.debug({ messageId: message.message_id }, 'ignored a private message with nothing to relay');
      return;
    }
    // Throwing leaves the update unconfirmed (long polling) or answers the webhook with an error: Telegram sends it
    // again, so a message is acknowledged only once it is stored.
    if (this.sink) await this.sink.inbound(normalized);
  }

  private async download(fileId: string): Promise<{ data: Buffer; fileName?: string }> {
    const file = await this.options.bot.api.getFile(fileId);
    if (!file.file_path) throw new Error(`Telegram returned no file_path for ${fileId}`);
    const response = await fetch(`${this.options.apiRoot}/file/bot${this.options.token}/${file.file_path}`);
    if (!response.ok) throw new Error(`downloading a Telegram file failed: HTTP ${response.status}`);
    return { data: Buffer.from(await response.arrayBuffer()), fileName: file.file_path.split('/').pop() };
  }
}

const isNotModified = (error: unknown): boolean => error instanceof DeliveryError && /not modified/i.test(error.message);

/** Telegram numbers messages per chat, so the channel-wide unique id needs the chat too. */
export function telegramMessageKey(chatId: number, messageId: number): string {
  return `${chatId}:${messageId}`;
}

/** One Telegram message as the gateway's InboundMessage; undefined when there is nothing to relay. */
export function normalizeTelegramMessage(message: Message): InboundMessage | undefined {
  const attachments = telegramAttachments(message);
  const text = message.text ?? message.caption ?? '';
  if (!text && attachments.length === 0) return undefined;
  const from = message.from;
  return {
    channel: 'telegram',
    externalChatId: String(message.chat.id),
    externalMessageId: telegramMessageKey(message.chat.id, message.message_id),
    profile: {
      name: [from?.first_name, from?.last_name].filter(Boolean).join(' ') || undefined,
      username: from?.username,
      language: from?.language_code,
      phone: message.contact?.user_id === from?.id ? message.contact?.phone_number : undefined,
    },
    text,
    attachments,
    replyToExternalId: message.reply_to_message ? telegramMessageKey(message.chat.id, message.reply_to_message.message_id) : undefined,
    sentAt: new Date(message.date * 1000),
  };
}
