import { OperatorModel, type ConversationDoc, type OperatorDoc } from '../src/db/models/index.js';
import { forwardConversation } from '../src/conversations/operator-actions.js';
import { mention } from '../src/console/telegram/render.js';
import { escapeHtml } from '../src/util/html.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { conversationOf, findOperatorByReference } from './arguments.js';
import type { Command } from './command.js';

/** Forwards and says so, with the comment: the same confirmation whether typed, picked or answered. */
async function forwardAndConfirm(conversation: ConversationDoc, from: OperatorDoc, to: OperatorDoc, comment: string | undefined): Promise<string> {
  const forwarded = await forwardConversation(conversation, from, to, comment);
  const said = { from: escapeHtml(from.name), number: forwarded.number, to: mention(to) };
  return comment ? operatorText('forward.forwardedWithComment', { ...said, comment: escapeHtml(comment) }) : operatorText('forward.forwarded', said);
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
      if (colleagues.length === 0) return ctx.reply(operatorText('forward.noColleague'));
      await ctx.reply(operatorText('forward.pickColleague', { number: conversation.number }), {
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
    if (step === 'cancel') return ctx.edit(operatorText('forward.notForwarded', { number: conversation.number }));
    const target = await activeOperator(id);
    if (!target) return ctx.toast(operatorText('forward.noLongerActive'));
    if (step === 'pick') {
      await ctx.edit(operatorText('forward.askComment', { number: conversation.number, name: escapeHtml(target.name) }), {
        html: true,
        buttons: [[{ text: operatorText('forward.withoutComment'), data: `go:${target._id}` }], [{ text: operatorText('forward.cancel'), data: 'cancel' }]],
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
    if (!target) return ctx.reply(operatorText('forward.questionStale'));
    await ctx.edit(await forwardAndConfirm(conversation, ctx.operator, target, ctx.text.trim()), { html: true });
  },
};
