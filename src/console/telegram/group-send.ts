import { InputFile, type InlineKeyboard } from 'grammy';
import type { Attachment } from '../../domain.js';
import { splitHtmlByLines } from '../../util/split-text.js';
import type { GroupCalls } from './group-calls.js';
import { threadOptions, type ConsoleTarget } from './target.js';

export const TEXT_LIMIT = 4096;
export const CAPTION_LIMIT = 1024;

/** Sends HTML into the group, split into pieces Telegram accepts; buttons go on the last piece (and need the main bot). */
export async function sendHtml(calls: GroupCalls, target: ConsoleTarget, html: string, extra: { buttons?: InlineKeyboard; replyTo?: number } = {}): Promise<number[]> {
  const ids: number[] = [];
  const pieces = splitHtmlByLines(html, TEXT_LIMIT);
  for (const [index, piece] of pieces.entries()) {
    const buttons = index === pieces.length - 1 ? extra.buttons : undefined;
    const sent = await calls.make({ main: Boolean(buttons) }, (api) =>
      api.sendMessage(target.chatId, piece, {
        parse_mode: 'HTML',
        ...threadOptions(target),
        ...(buttons ? { reply_markup: buttons } : {}),
        ...(index === 0 && extra.replyTo ? { reply_parameters: { message_id: extra.replyTo, allow_sending_without_reply: true } } : {}),
        link_preview_options: { is_disabled: true },
      }),
    );
    ids.push(sent.message_id);
  }
  return ids;
}

/** Sends one attachment we hold (a Telegram file id, inline bytes, a location), with an optional HTML caption. */
export async function sendAttachment(calls: GroupCalls, target: ConsoleTarget, attachment: Attachment, caption?: string, replyTo?: number): Promise<number> {
  const extra = {
    ...threadOptions(target),
    ...(caption ? { caption, parse_mode: 'HTML' as const } : {}),
    ...(replyTo ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } } : {}),
  };
  const chat = target.chatId;
  if (attachment.kind === 'location' && attachment.location?.latitude !== undefined) {
    return (await calls.make({}, (api) => api.sendLocation(chat, attachment.location!.latitude!, attachment.location!.longitude!, threadOptions(target)))).message_id;
  }
  const file = attachment.ref?.startsWith('tg:') ? attachment.ref.slice(3) : new InputFile(Buffer.from(attachment.dataBase64 ?? '', 'base64'), attachment.fileName ?? 'file');
  const sent = await calls.make<{ message_id: number }>({}, (api) => {
    const send: (() => Promise<{ message_id: number }>) | undefined = {
      photo: () => api.sendPhoto(chat, file, extra),
      voice: () => api.sendVoice(chat, file, extra),
      audio: () => api.sendAudio(chat, file, extra),
      video: () => api.sendVideo(chat, file, extra),
      video_note: () => api.sendVideoNote(chat, file, threadOptions(target)),
      sticker: () => api.sendSticker(chat, file, threadOptions(target)),
    }[attachment.kind as 'photo'];
    return send ? send() : api.sendDocument(chat, file, extra);
  });
  return sent.message_id;
}
