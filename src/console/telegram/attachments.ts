import type { Message } from 'grammy/types';
import type { Attachment } from '../../domain.js';

/** The media of a Telegram message as gateway attachments; files travel by `tg:<file_id>` reference. */
export function telegramAttachments(message: Message): Attachment[] {
  const attachments: Attachment[] = [];
  const file = (kind: Attachment['kind'], media: { file_id: string; file_size?: number; mime_type?: string; file_name?: string }) =>
    attachments.push({ kind, ref: `tg:${media.file_id}`, size: media.file_size, mimeType: media.mime_type, fileName: media.file_name });
  if (message.photo?.length) file('photo', message.photo.at(-1)!);
  if (message.document) file('document', message.document);
  if (message.voice) file('voice', message.voice);
  if (message.audio) file('audio', message.audio);
  if (message.video) file('video', message.video);
  if (message.video_note) file('video_note', message.video_note);
  if (message.sticker) file('sticker', { ...message.sticker, mime_type: message.sticker.is_animated ? 'application/x-tgsticker' : 'image/webp' });
  if (message.location) attachments.push({ kind: 'location', location: { latitude: message.location.latitude, longitude: message.location.longitude } });
  if (message.contact) attachments.push({ kind: 'contact', contact: { name: [message.contact.first_name, message.contact.last_name].filter(Boolean).join(' '), phone: message.contact.phone_number } });
  return attachments;
}
