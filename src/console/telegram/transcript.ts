import type { Message } from '../../db/models/index.js';
import { escapeHtml } from '../../util/html.js';
import { attachmentSummary } from './render.js';

const DELIVERY_MARK: Record<string, string> = { pending: '⏱', sent: '✓', delivered: '✓✓', read: '👀', failed: '⚠️' };

/** One stored message as a transcript line (HTML): time, author, delivery status, text and files. */
export function transcriptLine(m: Pick<Message, 'createdAt' | 'direction' | 'author' | 'delivery' | 'editedAt' | 'deletedAt' | 'deletedBy' | 'text' | 'attachments'>): string {
  const time = m.createdAt.toISOString().slice(5, 16).replace('T', ' ');
  const who = m.direction === 'in' ? `👤 ${m.author?.name ?? 'Customer'}` : m.direction === 'note' ? `📝 ${m.author?.name ?? ''} (note)` : m.author?.kind === 'system' ? '🤖 Gateway' : `🧑‍💼 ${m.author?.name ?? ''}`;
  const delivery = m.direction === 'out' && m.delivery?.status ? ` ${DELIVERY_MARK[m.delivery.status] ?? ''}${m.delivery.status === 'failed' && m.delivery.error ? ` (${m.delivery.error})` : ''}` : '';
  const files = m.attachments.length ? `\n${attachmentSummary(m.attachments)}` : '';
  const changes = [m.editedAt ? '✏️ edited' : '', m.deletedAt ? `🗑 deleted${m.deletedBy?.kind === 'operator' ? ` by ${m.deletedBy.name ?? 'an operator'}` : ''}` : ''].filter(Boolean);
  const changed = changes.length ? ` (${changes.join(', ')})` : '';
  return `<b>${time}</b> ${escapeHtml(who)}${escapeHtml(delivery)}${escapeHtml(changed)}: ${escapeHtml(m.text)}${files}`;
}
