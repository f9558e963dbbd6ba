import type { Message } from '../../db/models/index.js';
import { escapeHtml } from '../../util/html.js';
import { attachmentSummary } from './render.js';

const DELIVERY_MARK: Record<string, string> = { pending: '⏱', sent: '✓', delivered: '✓✓', read: '👀', failed: '⚠️' };

/** One stored message as a transcript line (HTML): time, author, delivery status, text and files. */
export function transcriptLine(m: Pick<Message, 'createdAt' | 'direction' | 'author' | 'delivery' | 'editedAt' | 'text' | 'attachments'>): string {
  const time = m.createdAt.toISOString().slice(5, 16).replace('T', ' ');
  const who = m.direction === 'in' ? `👤 ${m.author?.name ?? 'Customer'}` : m.direction === 'note' ? `📝 ${m.author?.name ?? ''} (note)` : m.author?.kind === 'system' ? '🤖 Gateway' : `🧑‍💼 ${m.author?.name ?? ''}`;
  const delivery = m.direction === 'out' && m.delivery?.status ? ` ${DELIVERY_MARK[m.delivery.status] ?? ''}${m.delivery.status === 'failed' && m.delivery.error ? ` (${m.delivery.error})` : ''}` : '';
  const files = m.attachments.length ? `\n${attachmentSummary(m.attachments)}` : '';
  return `<b>${time}</b> ${escapeHtml(who)}${escapeHtml(delivery)}${m.editedAt ? ' ✏️' : ''}: ${escapeHtml(m.text)}${files}`;
}
