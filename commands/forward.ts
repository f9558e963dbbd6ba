import { OperatorModel } from '../src/db/models/index.js';
import { forwardConversation } from '../src/conversations/operator-actions.js';
import { mention } from '../src/console/telegram/render.js';
import { escapeHtml } from '../src/util/html.js';
import { conversationOf, findOperatorByReference } from './arguments.js';
import type { Command } from './command.js';

export const forward: Command = {
  name: 'forward',
  description: 'Hand this chat to a colleague, with a comment',
  usage: '/forward @operator [comment]',
  role: 'operator',
  needsConversation: true,
  async run(ctx) {
    const conversation = conversationOf(ctx);
    if (!ctx.args) {
      const colleagues = await OperatorModel.find({ active: true, _id: { $ne: ctx.operator._id } }).sort({ onDuty: -1, name: 1 }).limit(20);
      if (colleagues.length === 0) return ctx.reply('There is no other active operator to forward to.');
      await ctx.reply(`Forward chat #${conversation.number} to:`, {
        buttons: colleagues.map((o) => [{ text: `${o.onDuty ? '🟢 ' : ''}${o.name}`, data: String(o._id) }]),
      });
      return;
    }
    const [reference, ...commentWords] = ctx.args.split(/\s+/);
    const target = await findOperatorByReference(reference!);
    const comment = commentWords.join(' ') || undefined;
    const forwarded = await forwardConversation(conversation, ctx.operator, target, comment);
    await ctx.reply(`🔀 ${escapeHtml(ctx.operator.name)} forwarded chat #${forwarded.number} to ${mention(target)}${comment ? `: ${escapeHtml(comment)}` : ''}`, { html: true });
  },
  async callback(ctx) {
    const conversation = conversationOf(ctx);
    const target = await OperatorModel.findOne({ _id: ctx.data, active: true });
    if (!target) return ctx.toast('That operator is no longer active.');
    const forwarded = await forwardConversation(conversation, ctx.operator, target);
    await ctx.edit(`🔀 ${escapeHtml(ctx.operator.name)} forwarded chat #${forwarded.number} to ${mention(target)}`, { html: true });
  },
};
