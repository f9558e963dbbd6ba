import type { Attachment } from './domain.js';

/**
 * Attachments travel by reference (`tg:<file_id>`, `vk:...`) so the database does not hold the bytes twice.
 * The channel that owns a reference kind registers how to fetch its bytes; a channel that can't use another
 * channel's reference gets the bytes inline (dataBase64) before it sends.
 */
type Loader = (ref: string) => Promise<{ data: Buffer; mimeType?: string; fileName?: string }>;
const loaders = new Map<string, Loader>();

export function registerAttachmentSource(prefix: string, loader: Loader): () => void {
  loaders.set(prefix, loader);
  return () => loaders.delete(prefix);
}

export function refPrefix(ref: string | undefined): string | undefined {
  return ref?.includes(':') ? ref.slice(0, ref.indexOf(':')) : undefined;
}

/** Returns the attachment with its bytes inline, unless it already has them or the reference is foreign to us. */
export async function withInlineBytes(attachment: Attachment): Promise<Attachment> {
  if (attachment.dataBase64 || !attachment.ref) return attachment;
  const loader = loaders.get(refPrefix(attachment.ref) ?? '');
  if (!loader) return attachment;
  const loaded = await loader(attachment.ref);
  return {
    ...attachment,
    dataBase64: loaded.data.toString('base64'),
    mimeType: attachment.mimeType ?? loaded.mimeType,
    fileName: attachment.fileName ?? loaded.fileName,
    size: loaded.data.length,
  };
}
