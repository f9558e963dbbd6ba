import type { ConversationStatus } from '../src/domain.js';
import { CustomerModel, OperatorModel, type Conversation } from '../src/db/models/index.js';
import { channelLabel, customerName, STATUS_EMOJI, topicLink } from '../src/console/telegram/render.js';
import { formatWait } from '../src/console/telegram/dashboard.js';
import { waitingSince } from '../src/conversations/waiting.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { escapeHtml } from '../src/util/html.js';

type Listed = Conversation & { _id: unknown };

/**
 * One line per chat, as /chats and /search show them (HTML): number, status, channel, customer and contact,
 * owner, priority, when it was created (UTC) and how long the customer has been waiting; linked to its topic.
 */
export async function chatLines(conversations: Listed[], groupId: number | undefined, now = new Date()): Promise<string[]> {
  const customers = new Map((await CustomerModel.find({ _id: { $in: conversations.map((c) => c.customer) } }).lean()).map((c) => [String(c._id), c]));
  const owners = new Map((await OperatorModel.find({ _id: { $in: conversations.map((c) => c.owner).filter(Boolean) } }).lean()).map((o) => [String(o._id), o]));
  return conversations.map((c) => {
    const customer = customers.get(String(c.customer));
    const contact = customer ? [customer.username ? `@${customer.username}` : '', customer.phone ?? '', customer.email ?? ''].filter((part) => part && part !== customerName(customer)).join(', ') : '';
    const label = `${STATUS_EMOJI[c.status as ConversationStatus]} #${c.number}`;
    const linked = groupId && c.console?.topicId ? `<a href="${topicLink(groupId, c.console.topicId)}">${label}</a>` : label;
    const since = waitingSince(c);
    return [
      linked,
      channelLabel(c.channel),
      escapeHtml(`${customer ? customerName(customer) : '?'}${contact ? ` (${contact})` : ''}`),
      `👤 ${c.owner ? escapeHtml(owners.get(String(c.owner))?.name ?? '?') : operatorText('chats.line.nobody')}`,
      ...(c.priority && c.priority !== 'normal' ? [`${c.priority === 'high' ? '❗' : '▫️'}${operatorText(`chats.priority.${c.priority}`)}`] : []),
      operatorText('chats.line.created', { date: c.createdAt.toISOString().slice(0, 16).replace('T', ' ') }),
      ...(since ? [operatorText('chats.line.waits', { wait: formatWait(now.getTime() - since.getTime()) })] : []),
    ].join(' · ');
  });
}
