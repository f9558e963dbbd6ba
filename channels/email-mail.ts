import { simpleParser, type ParsedMail, type HeaderValue } from 'mailparser';
import { convert as htmlToText } from 'html-to-text';
import type { Attachment, AttachmentKind, InboundMessage } from '../src/domain.js';

/** Why a mail opens no chat: bounces and auto-replies. undefined for a mail from a person. */
export function automaticMailReason(mail: ParsedMail): string | undefined {
  const header = (name: string): string => headerText(mail.headers.get(name)).toLowerCase();
  const autoSubmitted = header('auto-submitted');
  if (autoSubmitted && autoSubmitted !== 'no') return `Auto-Submitted: ${autoSubmitted}`;
  const precedence = header('precedence');
  if (['bulk', 'junk', 'list', 'auto_reply'].includes(precedence)) return `Precedence: ${precedence}`;
  if (mail.headers.has('x-autoreply') || mail.headers.has('x-autorespond')) return 'X-Autoreply';
  const sender = mail.from?.value[0]?.address?.toLowerCase() ?? '';
  if (/^(mailer-daemon|postmaster)@/.test(sender)) return `sender ${sender}`;
  if (header('content-type').startsWith('multipart/report')) return 'multipart/report';
  return undefined;
}

function headerText(value: HeaderValue | undefined): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.trim();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => String(v)).join(' ');
  if (typeof value === 'object' && 'value' in value) return String((value as { value: unknown }).value).trim();
  return String(value);
}

/** The body as plain text: the text part, or the HTML part converted when the mail has only HTML. */
export function plainBody(mail: ParsedMail): string {
  if (mail.text && mail.text.trim()) return mail.text.replace(/\r\n/g, '\n');
  if (typeof mail.html === 'string' && mail.html.trim()) return htmlToText(mail.html, { wordwrap: false, selectors: [{ selector: 'img', format: 'skip' }] });
  return '';
}

const QUOTE_HEADER = [
  /^On\b.*\bwrote:\s*$/i,
  /^-+\s*Original Message\s*-+$/i,
  /^.*(написал|написала|написал\(а\)):\s*$/i,
];

/**
 * What a person wrote in this mail: the quoted history ("On ... wrote:" and `>` lines) and the signature
 * (after "-- ") removed. Falls back to the whole text when nothing would remain.
 */
export function trimReply(text: string): string {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^-- ?$/.test(line)) break;
    if (QUOTE_HEADER.some((re) => re.test(line.trim()))) break;
    // "On Tue, 3 Mar 2026, Alice <a@x>\nwrote:" is often wrapped onto two lines.
    if (/^On\b/i.test(line.trim()) && /^\S*\s*wrote:\s*$/i.test(lines[i + 1]?.trim() ?? '')) break;
    if (/^\s*>/.test(line)) continue;
    kept.push(line);
  }
  const trimmed = kept.join('\n').replace(/\n{3,}/g, '\n\n').trim();
  return trimmed || text.trim();
}

/** "Re: Fwd: Order 5 [#12]" → "Order 5". */
export function baseSubject(subject: string): string {
  let s = subject.replace(/\s*\[#\d+\]\s*/g, ' ').trim();
  for (;;) {
    const next = s.replace(/^\s*(re|fw|fwd|aw|sv|ответ|отв)(\[\d+\])?\s*:\s*/i, '');
    if (next === s) break;
    s = next;
  }
  return s.trim();
}

/** The conversation number in a subject like "Re: Order [#123]". */
export function conversationNumberIn(subject: string | undefined): number | undefined {
  const m = /\[#(\d{1,12})\]/.exec(subject ?? '');
  return m ? Number(m[1]) : undefined;
}

function attachmentKind(mimeType: string): AttachmentKind {
  if (mimeType.startsWith('image/')) return 'photo';
  if (mimeType.startsWith('audio/')) return 'audio';
  if (mimeType.startsWith('video/')) return 'video';
  return 'document';
}

export function referencesOf(mail: ParsedMail): string[] {
  const refs = mail.references === undefined ? [] : Array.isArray(mail.references) ? mail.references : mail.references.split(/\s+/);
  return refs.map((r) => r.trim()).filter(Boolean);
}

/** One parsed mail as the core sees it. `fallbackId` names a mail without a Message-ID (dedupe key). */
export function toInboundMessage(mail: ParsedMail, options: { fallbackId: string; maxAttachmentSize: number; receivedAt: Date }): InboundMessage | undefined {
  const from = mail.from?.value[0];
  const address = from?.address?.trim().toLowerCase();
  if (!address) return undefined;
  const messageId = mail.messageId?.trim() || options.fallbackId;
  const subject = (mail.subject ?? '').trim();
  const references = referencesOf(mail);
  const inReplyTo = mail.inReplyTo?.trim();
  const original = plainBody(mail);
  const body = trimReply(original);
  const isReply = Boolean(inReplyTo) || references.length > 0 || /^\s*(re|aw|sv|ответ)\s*:/i.test(subject);

  const attachments: Attachment[] = [];
  const skipped: string[] = [];
  for (const part of mail.attachments) {
    const fileName = part.filename ?? 'attachment';
    if (part.size > options.maxAttachmentSize) {
      skipped.push(`[${fileName}: ${Math.ceil(part.size / 1024)} KB, larger than the ${Math.floor(options.maxAttachmentSize / 1024)} KB limit, not shown]`);
      continue;
    }
    attachments.push({ kind: attachmentKind(part.contentType), fileName, mimeType: part.contentType, size: part.size, dataBase64: part.content.toString('base64') });
  }
  const parts = [isReply || !subject ? '' : `Subject: ${subject}`, body, skipped.join('\n')].filter(Boolean);
  const meta = [
    { name: 'messageId', value: messageId },
    { name: 'subject', value: subject },
    { name: 'references', value: references.join(' ') },
    { name: 'originalText', value: original },
  ];
  if (inReplyTo) meta.push({ name: 'inReplyTo', value: inReplyTo });
  return {
    channel: 'email',
    externalChatId: address,
    externalMessageId: messageId,
    profile: { name: from?.name?.trim() || undefined, email: address },
    text: parts.join('\n\n'),
    attachments,
    replyToExternalId: inReplyTo,
    sentAt: options.receivedAt,
    meta,
  };
}

export async function parseMail(source: Buffer): Promise<ParsedMail> {
  return simpleParser(source, { skipImageLinks: true });
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export function textToHtml(text: string): string {
  return `<div>${escapeHtml(text).replace(/\r?\n/g, '<br>\n')}</div>`;
}
