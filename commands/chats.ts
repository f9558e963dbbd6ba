import { CHANNEL_KINDS, CONVERSATION_STATUSES, PRIORITIES, type ChannelKind, type ConversationStatus, type Priority } from '../src/domain.js';
import { ConversationModel, OperatorModel, type OperatorDoc } from '../src/db/models/index.js';
import { OPEN_STATUSES } from '../src/db/models/conversation.js';
import { byUrgency } from '../src/conversations/waiting.js';
import { escapeHtml } from '../src/util/html.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { findOperatorByReference, parseChannel, parseSince } from './arguments.js';
import { chatLines } from './chat-lines.js';
import { UsageError, type Command, type ReplyOptions } from './command.js';

const PAGE_SIZE = 10;

interface Filters {
  /** `open`, `all` or one status. */
  status: string;
  channel?: ChannelKind;
  owner?: Pick<OperatorDoc, '_id' | 'telegramUserId' | 'name'> | 'none';
  priority?: Priority;
  /** On the chat's creation time. */
  since?: Date;
  until?: Date;
}

const statusesOf = (status: string): readonly ConversationStatus[] => (status === 'open' ? OPEN_STATUSES : status === 'all' ? CONVERSATION_STATUSES : [status as ConversationStatus]);

/** "until:2026-11-01" includes that day; "until:7d" means created more than 7 days ago. */
function parseUntil(word: string): Date | undefined {
  const at = parseSince(word);
  return at && /^\d{4}-\d{2}-\d{2}$/.test(word) ? new Date(at.getTime() + 86_400_000) : at;
}

async function parseFilters(words: string[], me: OperatorDoc): Promise<Filters> {
  const filters: Filters = { status: 'open' };
  for (const word of words.filter(Boolean)) {
    const lower = word.toLowerCase();
    const [key, value = ''] = lower.includes(':') ? [lower.slice(0, lower.indexOf(':')), word.slice(word.indexOf(':') + 1)] : [];
    if (lower === 'open' || lower === 'all' || (CONVERSATION_STATUSES as readonly string[]).includes(lower)) filters.status = lower;
    else if (parseChannel(lower)) filters.channel = parseChannel(lower);
    else if ((PRIORITIES as readonly string[]).includes(lower)) filters.priority = lower as Priority;
    else if (lower === 'me') filters.owner = me;
    else if (lower === 'none') filters.owner = 'none';
    else if (word.startsWith('@')) filters.owner = await findOperatorByReference(word);
    else if (key === 'since' && parseSince(value)) filters.since = parseSince(value);
    else if (key === 'until' && parseUntil(value)) filters.until = parseUntil(value);
    else if (!key && parseSince(word)) filters.since = parseSince(word);
    else throw new UsageError(operatorText('chats.notAFilter', { word, statuses: CONVERSATION_STATUSES.join(', '), priorities: PRIORITIES.join(', ') }));
  }
  return filters;
}

// A page button carries the filters in Telegram's 64 bytes: words by their index in their list, dates as base-36
// minutes, the operator by Telegram id.
const STATUS_WORDS = ['open', 'all', ...CONVERSATION_STATUSES];
const index = (list: readonly string[], word?: string) => (word ? String(list.indexOf(word)) : '');
const pick = <T extends string>(list: readonly T[], at?: string): T | undefined => (at ? list[Number(at)] : undefined);
const toMinutes = (date?: Date) => (date ? Math.floor(date.getTime() / 60_000).toString(36) : '');
const fromMinutes = (text?: string) => (text ? new Date(parseInt(text, 36) * 60_000) : undefined);

function encodeFilters(filters: Filters): string {
  const owner = filters.owner === 'none' ? 'none' : filters.owner ? String(filters.owner.telegramUserId) : '';
  return [index(STATUS_WORDS, filters.status), index(CHANNEL_KINDS, filters.channel), owner, index(PRIORITIES, filters.priority), toMinutes(filters.since), toMinutes(filters.until)].join('|');
}

async function decodeFilters(encoded: string[]): Promise<Filters> {
  const [status, channel, owner, priority, since, until] = encoded;
  const operator = owner && owner !== 'none' ? await OperatorModel.findOne({ telegramUserId: Number(owner) }) : undefined;
  return { status: pick(STATUS_WORDS, status) ?? 'open', channel: pick(CHANNEL_KINDS, channel), owner: owner === 'none' ? 'none' : (operator ?? undefined), priority: pick(PRIORITIES, priority), since: fromMinutes(since), until: fromMinutes(until) };
}

/** The filters in words, for the list's heading. */
function describe(filters: Filters): string {
  const date = (d: Date) => d.toISOString().slice(0, 16).replace('T', ' ');
  return [
    filters.status === 'open' || filters.status === 'all' ? operatorText(`chats.filter.${filters.status}`) : operatorText(`status.${filters.status}`),
    filters.channel,
    filters.owner === 'none' ? operatorText('chats.filter.nobodys') : filters.owner ? operatorText('chats.filter.owners', { name: filters.owner.name }) : undefined,
    filters.priority && operatorText('chats.filter.priority', { priority: operatorText(`chats.priority.${filters.priority}`) }),
    filters.since && operatorText('chats.filter.since', { date: date(filters.since) }),
    filters.until && operatorText('chats.filter.until', { date: date(filters.until) }),
  ]
    .filter(Boolean)
    .join(' · ');
}

function queryOf(filters: Filters): Record<string, unknown> {
  const query: Record<string, unknown> = { status: { $in: statusesOf(filters.status) } };
  if (filters.channel) query.channel = filters.channel;
  if (filters.owner) query.owner = filters.owner === 'none' ? { $exists: false } : filters.owner._id;
  if (filters.priority) query.priority = filters.priority;
  if (filters.since || filters.until) query.createdAt = { ...(filters.since ? { $gte: filters.since } : {}), ...(filters.until ? { $lt: filters.until } : {}) };
  return query;
}

async function renderPage(filters: Filters, page: number, groupId: number | undefined): Promise<{ text: string; options: ReplyOptions }> {
  // Urgency (priority, then the customer's wait) is computed, not stored: the order is made here, then one page read.
  const order = (await ConversationModel.find(queryOf(filters), { priority: 1, status: 1, createdAt: 1, lastCustomerMessageAt: 1, lastOperatorMessageAt: 1, lastActivityAt: 1 }).lean()).sort(byUrgency);
  if (order.length === 0) return { text: operatorText('chats.noMatch', { filters: escapeHtml(describe(filters)) }), options: { html: true } };
  const pageIds = order.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE).map((c) => c._id);
  const found = new Map((await ConversationModel.find({ _id: { $in: pageIds } }).lean()).map((c) => [String(c._id), c]));
  const lines = await chatLines(pageIds.map((id) => found.get(String(id))).filter((c) => c !== undefined), groupId);
  const pages = Math.ceil(order.length / PAGE_SIZE);
  const encoded = encodeFilters(filters);
  const nav = [
    ...(page > 0 ? [{ text: operatorText('chats.previous'), data: `${page - 1}|${encoded}` }] : []),
    ...(page + 1 < pages ? [{ text: operatorText('chats.next'), data: `${page + 1}|${encoded}` }] : []),
  ];
  return {
    text: [operatorText('chats.heading', { filters: escapeHtml(describe(filters)), count: order.length, page: page + 1, pages }), ...lines].join('\n'),
    options: { html: true, buttons: nav.length ? [nav] : undefined },
  };
}

export const chats: Command = {
  name: 'chats',
  description: 'List chats, most urgent first (high priority, then the longest wait); filters combine; dates are on creation',
  usage: '/chats [open|all|new|active|awaiting|transferred|closed|archived] [channel] [@operator|me|none] [high|normal|low] [since:7d|YYYY-MM-DD] [until:…]',
  role: 'operator',
  needsConversation: false,
  async run(ctx) {
    const { text, options } = await renderPage(await parseFilters(ctx.args.split(/\s+/), ctx.operator), 0, ctx.config.telegram?.operatorChatId);
    await ctx.reply(text, options);
  },
  async callback(ctx) {
    const [page, ...encoded] = ctx.data.split('|');
    const { text, options } = await renderPage(await decodeFilters(encoded), Number(page) || 0, ctx.config.telegram?.operatorChatId);
    await ctx.edit(text, options);
  },
};
