import { CONVERSATION_STATUSES, type ChannelKind, type ConversationStatus } from '../src/domain.js';
import { ConversationModel, CustomerModel } from '../src/db/models/index.js';
import { OPEN_STATUSES } from '../src/db/models/conversation.js';
import { channelLabel, customerName, STATUS_EMOJI, topicLink } from '../src/console/telegram/render.js';
import { escapeHtml } from '../src/util/html.js';
import { parseChannel, parseSince } from './arguments.js';
import { UsageError, type Command, type ReplyOptions } from './command.js';

const PAGE_SIZE = 10;

interface Filters {
  statuses: ConversationStatus[];
  channel?: ChannelKind;
  since?: Date;
}

function parseFilters(words: string[]): Filters {
  const filters: Filters = { statuses: [...OPEN_STATUSES] };
  for (const word of words.filter(Boolean)) {
    const lower = word.toLowerCase();
    if (lower === 'open') filters.statuses = [...OPEN_STATUSES];
    else if (lower === 'all') filters.statuses = [...CONVERSATION_STATUSES];
    else if ((CONVERSATION_STATUSES as readonly string[]).includes(lower)) filters.statuses = [lower as ConversationStatus];
    else if (parseChannel(lower)) filters.channel = parseChannel(lower);
    else if (parseSince(word)) filters.since = parseSince(word);
    else throw new UsageError(`"${word}" is not a status (${CONVERSATION_STATUSES.join(', ')}, open, all), a channel or a period like 7d or 2026-11-01.`);
  }
  return filters;
}

/** The filters as the words that produce them, so a page button can carry them in 64 bytes. */
function encodeFilters(filters: Filters): string {
  const status = filters.statuses.length === 1 ? filters.statuses[0] : filters.statuses.length === CONVERSATION_STATUSES.length ? 'all' : 'open';
  return [status, filters.channel, filters.since?.toISOString().slice(0, 10)].filter(Boolean).join(' ');
}

async function renderPage(filters: Filters, page: number, groupId: number | undefined): Promise<{ text: string; options: ReplyOptions }> {
  const query: Record<string, unknown> = { status: { $in: filters.statuses } };
  if (filters.channel) query.channel = filters.channel;
  if (filters.since) query.lastActivityAt = { $gte: filters.since };
  const total = await ConversationModel.countDocuments(query);
  const conversations = await ConversationModel.find(query).sort({ lastActivityAt: -1 }).skip(page * PAGE_SIZE).limit(PAGE_SIZE).lean();
  const customers = new Map((await CustomerModel.find({ _id: { $in: conversations.map((c) => c.customer) } }).lean()).map((c) => [String(c._id), c]));
  if (total === 0) return { text: `No chats match (${escapeHtml(encodeFilters(filters))}).`, options: { html: true } };
  const lines = conversations.map((c) => {
    const customer = customers.get(String(c.customer));
    const label = `${STATUS_EMOJI[c.status as ConversationStatus]} #${c.number} · ${channelLabel(c.channel)} · ${escapeHtml(customer ? customerName(customer) : '?')}`;
    const linked = groupId && c.console?.topicId ? `<a href="${topicLink(groupId, c.console.topicId)}">${label}</a>` : label;
    return `${linked} · ${c.priority === 'high' ? '❗ ' : ''}${ago(c.lastActivityAt)}`;
  });
  const pages = Math.ceil(total / PAGE_SIZE);
  const encoded = encodeFilters(filters);
  const nav = [
    ...(page > 0 ? [{ text: '◀ Newer', data: `${page - 1}:${encoded}` }] : []),
    ...(page + 1 < pages ? [{ text: 'Older ▶', data: `${page + 1}:${encoded}` }] : []),
  ];
  return {
    text: [`<b>Chats</b> (${escapeHtml(encoded)}) — ${total} in all, page ${page + 1}/${pages}`, ...lines].join('\n'),
    options: { html: true, buttons: nav.length ? [nav] : undefined },
  };
}

function ago(date: Date): string {
  const minutes = Math.round((Date.now() - date.getTime()) / 60_000);
  if (minutes < 60) return `${minutes} min ago`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h ago`;
  return `${Math.round(minutes / 1440)} d ago`;
}

export const chats: Command = {
  name: 'chats',
  description: 'List chats by status, channel and period',
  usage: '/chats [new|active|awaiting|transferred|closed|archived|open|all] [channel] [since: 7d or YYYY-MM-DD]',
  role: 'operator',
  needsConversation: false,
  async run(ctx) {
    const { text, options } = await renderPage(parseFilters(ctx.args.split(/\s+/)), 0, ctx.config.telegram?.operatorChatId);
    await ctx.reply(text, options);
  },
  async callback(ctx) {
    const [page, ...words] = ctx.data.split(/[:\s]/);
    const { text, options } = await renderPage(parseFilters(words), Number(page) || 0, ctx.config.telegram?.operatorChatId);
    await ctx.edit(text, options);
  },
};
