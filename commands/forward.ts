import { OperatorModel, type ConversationDoc, type OperatorDoc } from '../src/db/models/index.js';
import { forwardConversation } from '../src/conversations/operator-actions.js';
import { mention } from '../src/console/telegram/render.js';
import { escapeHtml } from '../src/util/html.js';
import { conversationOf, findOperatorByReference } from './arguments.js';
import type { Command } from './command.js';

/** Forwards and says so, with the comment: the same confirmation whether typed, picked or answered. */
async function forwardAndConfirm(conversation: ConversationDoc, from: OperatorDoc, to: OperatorDoc, comment: string | undefined): Promise<string> {
  const forwarded = await forwardConversation(conversation, from, to, comment);
  return `🔀 ${escapeHtml(from.name)} forwarded chat #${forwarded.number} to ${mention(to)}${comment ? `: ${escapeHtml(comment)}` : ''}`;
}

async function activeOperator(id: string): Promise<OperatorDoc | null> {
  return OperatorModel.findOne({ _id: id, active: true });
}

/**
 * `/forward @operator [comment]`, or without arguments: a colleague picked with a button, then a comment asked
 * for (answered by replying to the question) or skipped with a button; either way the same confirmation.
 */
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
        buttons: colleagues.map((o) => [{ text: `${o.onDuty ? '🟢 ' : ''}${o.name}`, data: `pick:${o._id}` }]),
      });
      return;
    }
    const [reference, ...commentWords] = ctx.args.split(/\s+/);
    const target = await findOperatorByReference(reference!);
    await ctx.reply(await forwardAndConfirm(conversation, ctx.operator, target, commentWords.join(' ') || undefined), { html: true });
  },
  async callback(ctx) {
    const conversation = conversationOf(ctx);
    const [step, id = ''] = ctx.data.split(':');
    if (step === 'cancel') return ctx.edit(`Chat #${conversation.number} is not forwarded.`);
    const target = await activeOperator(id);
    if (!target) return ctx.toast('That operator is no longer active.');
    if (step === 'pick') {
      await ctx.edit(`🔀 Forward chat #${conversation.number} to ${escapeHtml(target.name)}: reply to this message with a comment for them, or`, {
        html: true,
        buttons: [[{ text: 'Forward without a comment', data: `go:${target._id}` }], [{ text: 'Cancel', data: 'cancel' }]],
      });
      return;
    }
    await ctx.edit(await forwardAndConfirm(conversation, ctx.operator, target, undefined), { html: true });
  },
  /** The comment, as a reply to the question: forwards with it. */
  async answer(ctx) {
    const conversation = conversationOf(ctx);
    const [step, id = ''] = ctx.data.split(':');
    const target = step === 'go' ? await activeOperator(id) : null;
    if (!target) return ctx.reply('That question no longer applies: use /forward @operator comment.');
    await ctx.edit(await forwardAndConfirm(conversation, ctx.operator, target, ctx.text.trim()), { html: true });
  },
};
