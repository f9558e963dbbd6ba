import type { Message } from '../../db/models/index.js';
import { escapeHtml } from '../../util/html.js';
import { operatorText } from '../../i18n/operator-texts.js';
import { attachmentSummary } from './render.js';

const DELIVERY_MARK: Record<string, string> = { pending: '⏱', sent: '✓', delivered: '✓✓', read: '👀', failed: '⚠️' };

/** One stored message as a transcript line (HTML): time, author, delivery status, text and files. */
export function transcriptLine(m: Pick<Message, 'createdAt' | 'direction' | 'author' | 'delivery' | 'editedAt' | 'deletedAt' | 'deletedBy' | 'text' | 'attachments'>): string {
  const time = m.createdAt.toISOString().slice(5, 16).replace('T', ' ');
  const who =
    m.direction === 'in'
      ? `👤 ${m.author?.name ?? operatorText('console.transcript.customer')}`
      : m.direction === 'note'
        ? `📝 ${operatorText('console.transcript.note', { name: m.author?.name ?? '' })}`
        : m.author?.kind === 'system'
          ? `🤖 ${operatorText('console.transcript.gateway')}`
          : `🧑‍💼 ${m.author?.name ?? ''}`;
  const delivery = m.direction === 'out' && m.delivery?.status ? ` ${DELIVERY_MARK[m.delivery.status] ?? ''}${m.delivery.status === 'failed' && m.delivery.error ? ` (${m.delivery.error})` : ''}` : '';
  const files = m.attachments.length ? `\n${attachmentSummary(m.attachments)}` : '';
  const deleted = m.deletedBy?.kind === 'operator' ? operatorText('console.transcript.deletedBy', { name: m.deletedBy.name ?? operatorText('console.transcript.anOperator') }) : operatorText('console.transcript.deleted');
  const changes = [m.editedAt ? operatorText('console.transcript.edited') : '', m.deletedAt ? deleted : ''].filter(Boolean);
  const changed = changes.length ? ` (${changes.join(', ')})` : '';
  return `<b>${time}</b> ${escapeHtml(who)}${escapeHtml(delivery)}${escapeHtml(changed)}: ${escapeHtml(m.text)}${files}`;
}
