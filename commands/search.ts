import { ConversationModel, CustomerModel, MessageModel } from '../src/db/models/index.js';
import type { ConversationStatus } from '../src/domain.js';
import { channelLabel, customerName, STATUS_EMOJI, topicLink } from '../src/console/telegram/render.js';
import { escapeHtml } from '../src/util/html.js';
import { escapeRegex } from './arguments.js';
import { UsageError, type Command } from './command.js';

const LIMIT = 15;

export const search: Command = {
  name: 'search',
  description: 'Find chats by customer name, contact or message text (archived included)',
  usage: '/search text',
  role: 'operator',
  needsConversation: false,
  async run(ctx) {
    if (ctx.args.length < 2) throw new UsageError('Give at least two characters to look for.');
    const pattern = { $regex: escapeRegex(ctx.args), $options: 'i' };
    const customers = await CustomerModel.find({ $or: [{ name: pattern }, { username: pattern }, { email: pattern }, { phone: pattern }, { externalChatId: pattern }] }, { _id: 1 }).limit(50).lean();
    const messages = await MessageModel.find({ text: pattern, direction: { $in: ['in', 'out', 'note'] } }, { conversation: 1 }).sort({ createdAt: -1 }).limit(200).lean();
    const conversations = await ConversationModel.find({ $or: [{ customer: { $in: customers.map((c) => c._id) } }, { _id: { $in: messages.map((m) => m.conversation) } }] })
      .sort({ lastActivityAt: -1 })
      .limit(LIMIT)
      .lean();
    if (conversations.length === 0) return ctx.reply(`Nothing found for “${ctx.args}”.`);
    const owners = new Map((await CustomerModel.find({ _id: { $in: conversations.map((c) => c.customer) } }).lean()).map((c) => [String(c._id), c]));
    const groupId = ctx.config.telegram?.operatorChatId;
    const lines = conversations.map((c) => {
      const customer = owners.get(String(c.customer));
      const label = `${STATUS_EMOJI[c.status as ConversationStatus]} #${c.number} · ${channelLabel(c.channel)} · ${escapeHtml(customer ? customerName(customer) : '?')} · ${c.lastActivityAt.toISOString().slice(0, 10)}`;
      return groupId && c.console?.topicId ? `<a href="${topicLink(groupId, c.console.topicId)}">${label}</a>` : label;
    });
    await ctx.reply([`<b>Found</b> for “${escapeHtml(ctx.args)}”:`, ...lines].join('\n'), { html: true });
  },
};
