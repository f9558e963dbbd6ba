import type { Attachment, InboundMessage } from '../src/domain.js';

/** `wc:<file id>`: how a web chat file is referred to in a stored attachment. */
export const REF_PREFIX = 'wc';
export const TEXT_LIMIT = 4000;

/** One line of the chat as the widget shows it. */
export interface ChatLine {
  id: string;
  /** The widget's own id of a visitor message, so a queued copy and the stored one are recognised as one. */
  clientId?: string;
  from: 'visitor' | 'operator' | 'system';
  text: string;
  files: FileView[];
  at: string;
  /** Answers offered as buttons; the widget shows them under the newest message only. */
  quickReplies?: string[];
  /** The text was changed after it was sent. */
  edited?: true;
  /** The widget answers with `received` once it shows this line: the operator then sees it delivered. */
  confirm?: true;
}

export interface FileView {
  kind: string;
  fileName: string;
  mimeType?: string;
  size?: number;
  /** Relative to the gateway; the widget appends its token. Absent when the bytes are not available. */
  url?: string;
}

export function fileUrl(fileId: string): string {
  return `/webchat/files/${fileId}`;
}

export function kindOf(mimeType: string): Attachment['kind'] {
  if (mimeType.startsWith('image/')) return 'photo';
  if (mimeType.startsWith('video/')) return 'video';
  if (mimeType.startsWith('audio/')) return 'audio';
  return 'document';
}

/** Images are shown inline: a file claiming to be one must start like one. */
export function looksLike(mimeType: string, data: Buffer): boolean {
  const starts = (...bytes: number[]) => bytes.every((b, i) => data[i] === b);
  switch (mimeType) {
    case 'image/png':
      return starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
    case 'image/jpeg':
      return starts(0xff, 0xd8, 0xff);
    case 'image/gif':
      return data.subarray(0, 6).toString('latin1') === 'GIF87a' || data.subarray(0, 6).toString('latin1') === 'GIF89a';
    case 'image/webp':
      return data.subarray(0, 4).toString('latin1') === 'RIFF' && data.subarray(8, 12).toString('latin1') === 'WEBP';
    default:
      // Other image types (svg...) only if the operator allowed them; served with a sandboxing CSP.
      return true;
  }
}

export function cleanFileName(header: string | string[] | undefined): string {
  let name = typeof header === 'string' ? header : '';
  try {
    name = decodeURIComponent(name);
  } catch {
    // keep it as sent
  }
  name = name.replace(/^.*[\\/]/, '').replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 200);
  return name || 'file';
}

export function cleanProfile(profile: unknown): InboundMessage['profile'] {
  if (!profile || typeof profile !== 'object') return {};
  const { name, email, language } = profile as { name?: unknown; email?: unknown; language?: unknown };
  return {
    name: typeof name === 'string' && name.trim() ? name.trim().slice(0, 100) : undefined,
    email: typeof email === 'string' && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim()) ? email.trim().slice(0, 200) : undefined,
    // The browser's language (navigator.language), as a tag like en-US.
    language: typeof language === 'string' && /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/i.test(language) ? language : undefined,
  };
}

/** Locations and contacts are shown as text lines, not files. */
export function describeInline(attachment: Attachment): string | undefined {
  if (attachment.kind === 'location' && attachment.location) return `📍 ${attachment.location.latitude}, ${attachment.location.longitude}`;
  if (attachment.kind === 'contact' && attachment.contact) return ['👤', attachment.contact.name, attachment.contact.phone].filter(Boolean).join(' ');
  return undefined;
}
