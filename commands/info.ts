import { ConversationModel, CustomerModel, OperatorModel, type ConversationDoc } from '../src/db/models/index.js';
import type { ConversationStatus } from '../src/domain.js';
import { customerCard, STATUS_EMOJI } from '../src/console/telegram/render.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { escapeHtml } from '../src/util/html.js';
import { conversationOf, reasonLabel } from './arguments.js';
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
    if (!customer) return ctx.reply(operatorText('info.noCustomer', { number: conversation.number }));
    const owner = conversation.owner ? await OperatorModel.findById(conversation.owner).lean() : null;
    const past = await ConversationModel.find({ customer: customer._id, _id: { $ne: conversation._id } }).sort({ createdAt: -1 }).limit(10).lean();
    const lines = [
      customerCard(conversation, customer.toObject()),
      statusLine(conversation, owner?.name),
      operatorText('info.messages', { fromCustomer: conversation.counts?.in ?? 0, fromOperators: conversation.counts?.out ?? 0 }),
      customer.blocked ? operatorText('info.banned') : '',
      customer.unreachable ? operatorText('info.unreachable') : '',
      past.length ? operatorText('info.pastChats') : operatorText('info.noPastChats'),
      ...past.map((p) => `${STATUS_EMOJI[p.status as ConversationStatus]} #${p.number} · ${p.createdAt.toISOString().slice(0, 10)}${p.closeReason ? ` · ${reasonLabel(p.closeReason)}` : ''}${p.rating?.score ? ` · ⭐${p.rating.score}` : ''}`),
    ];
    await ctx.reply(lines.filter(Boolean).join('\n'), { html: true });
  },
};

function statusLine(conversation: ConversationDoc, owner: string | undefined): string {
  const values = { emoji: STATUS_EMOJI[conversation.status as ConversationStatus], status: operatorText(`status.${conversation.status}`), priority: operatorText(`priority.level.${conversation.priority}`) };
  return owner ? operatorText('info.statusWithOwner', { ...values, owner: escapeHtml(owner) }) : operatorText('info.status', values);
}
