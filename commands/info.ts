import { ConversationModel, CustomerModel, OperatorModel } from '../src/db/models/index.js';
import type { ConversationStatus } from '../src/domain.js';
import { customerCard, STATUS_EMOJI } from '../src/console/telegram/render.js';
import { REASON_LABEL } from './arguments.js';
import { conversationOf } from './arguments.js';
import type { Command } from './command.js';

export const info: Command = {
  name: 'info',
  description: "The customer's card and their past chats",
  usage: '/info',
  role: 'operator',
  needsConversation: true,
  async run(ctx) {
    const conversation = conversationOf(ctx);
    const customer = await CustomerModel.findById(conversation.customer);
    if (!customer) return ctx.reply(`Chat #${conversation.number} has no customer record.`);
    const owner = conversation.owner ? await OperatorModel.findById(conversation.owner).lean() : null;
    const past = await ConversationModel.find({ customer: customer._id, _id: { $ne: conversation._id } }).sort({ createdAt: -1 }).limit(10).lean();
    const lines = [
      customerCard(conversation, customer.toObject()),
      `Status: ${STATUS_EMOJI[conversation.status as ConversationStatus]} ${conversation.status} · priority ${conversation.priority}${owner ? ` · owner ${owner.name}` : ''}`,
      `Messages: ${conversation.counts?.in ?? 0} from the customer, ${conversation.counts?.out ?? 0} from operators`,
      customer.blocked ? '🚫 Banned: messages are stored but not shown.' : '',
      customer.unreachable ? '⚠️ The customer blocked us on their messenger: replies can not be delivered.' : '',
      past.length ? '<b>Past chats</b>' : 'No past chats.',
      ...past.map((p) => `${STATUS_EMOJI[p.status as ConversationStatus]} #${p.number} · ${p.createdAt.toISOString().slice(0, 10)}${p.closeReason ? ` · ${REASON_LABEL[p.closeReason]}` : ''}${p.rating?.score ? ` · ⭐${p.rating.score}` : ''}`),
    ];
    await ctx.reply(lines.filter(Boolean).join('\n'), { html: true });
  },
};
