import { MessageModel } from '../src/db/models/index.js';
import { attachmentSummary } from '../src/console/telegram/render.js';
import { escapeHtml } from '../src/util/html.js';
import { conversationOf } from './arguments.js';
import { UsageError, type Command } from './command.js';

const DELIVERY_MARK: Record<string, string> = { pending: '⏱', sent: '✓', delivered: '✓✓', read: '👀', failed: '⚠️' };

export const history: Command = {
  name: 'history',
  description: 'Transcript of this chat: times, authors, delivery, attachments',
  usage: '/history [number of messages, default 20, at most 200]',
  role: 'operator',
  needsConversation: true,
  async run(ctx) {
    const conversation = conversationOf(ctx);
    const count = ctx.args ? Number(ctx.args) : 20;
    if (!Number.isInteger(count) || count < 1 || count > 200) throw new UsageError(`"${ctx.args}" is not a number from 1 to 200.`);
    const messages = (await MessageModel.find({ conversation: conversation._id }).sort({ createdAt: -1 }).limit(count).lean()).reverse();
    if (messages.length === 0) return ctx.reply(`Chat #${conversation.number} has no messages.`);
    const lines = messages.map((m) => {
      const time = m.createdAt.toISOString().slice(5, 16).replace('T', ' ');
      const who = m.direction === 'in' ? `👤 ${m.author?.name ?? 'Customer'}` : m.direction === 'note' ? `📝 ${m.author?.name ?? ''} (note)` : m.author?.kind === 'system' ? '🤖 Gateway' : `🧑‍💼 ${m.author?.name ?? ''}`;
      const delivery = m.direction === 'out' && m.delivery?.status ? ` ${DELIVERY_MARK[m.delivery.status] ?? ''}${m.delivery.status === 'failed' && m.delivery.error ? ` (${m.delivery.error})` : ''}` : '';
      const files = m.attachments.length ? `\n${attachmentSummary(m.attachments)}` : '';
      return `<b>${time}</b> ${escapeHtml(who)}${escapeHtml(delivery)}${m.editedAt ? ' ✏️' : ''}: ${escapeHtml(m.text)}${files}`;
    });
    await ctx.reply([`<b>Chat #${conversation.number}</b>, last ${messages.length} messages (UTC):`, ...lines].join('\n'), { html: true });
  },
};
