import { ConversationModel, CustomerModel, MessageModel } from '../src/db/models/index.js';
import { escapeHtml } from '../src/util/html.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { escapeRegex, findOperatorByReference } from './arguments.js';
import { chatLines } from './chat-lines.js';
import { UsageError, type Command } from './command.js';

const LIMIT = 15;

/** `#12` is a chat number, `@bob` an operator (their chats), anything else a customer's name, contact or words; bare digits are also a chat number. */
async function findConversations(query: string) {
  if (query.startsWith('@')) {
    const operator = await findOperatorByReference(query);
    return ConversationModel.find({ owner: operator._id }).sort({ lastActivityAt: -1 }).limit(LIMIT).lean();
  }
  const number = /^#?(\d+)$/.exec(query)?.[1];
  if (query.startsWith('#')) return ConversationModel.find({ number: Number(number) }).lean();
  const pattern = { $regex: escapeRegex(query), $options: 'i' };
  const customers = await CustomerModel.find({ $or: [{ name: pattern }, { username: pattern }, { email: pattern }, { phone: pattern }, { externalChatId: pattern }] }, { _id: 1 }).limit(50).lean();
  const messages = await MessageModel.find({ text: pattern, direction: { $in: ['in', 'out', 'note'] } }, { conversation: 1 }).sort({ createdAt: -1 }).limit(200).lean();
  return ConversationModel.find({ $or: [{ customer: { $in: customers.map((c) => c._id) } }, { _id: { $in: messages.map((m) => m.conversation) } }, ...(number ? [{ number: Number(number) }] : [])] })
    .sort({ lastActivityAt: -1 })
    .limit(LIMIT)
    .lean();
}

export const search: Command = {
  name: 'search',
  description: 'Find chats by customer name, contact or message text, by chat number (#12) or by operator (@name); archived included',
  usage: '/search text | #number | @operator',
  role: 'operator',
  needsConversation: false,
  async run(ctx) {
    if (ctx.args.length < 2 && !/^\d$/.test(ctx.args)) throw new UsageError(operatorText('search.tooShort'));
    const conversations = await findConversations(ctx.args);
    if (conversations.length === 0) return ctx.reply(operatorText('search.nothingFound', { query: ctx.args }));
    const lines = await chatLines(conversations, ctx.config.telegram?.operatorChatId);
    await ctx.reply([operatorText('search.found', { query: escapeHtml(ctx.args) }), ...lines].join('\n'), { html: true });
  },
};
