import { CLOSE_REASONS, type CloseReason } from '../src/domain.js';
import { CustomerModel, type ConversationDoc, type OperatorDoc } from '../src/db/models/index.js';
import { closeConversation } from '../src/conversations/operator-actions.js';
import { sendSystemMessage } from '../src/conversations/system-message.js';
import { renderTemplate } from '../src/templates.js';
import type { Config } from '../src/config.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { conversationOf, parseCloseReason, reasonLabel } from './arguments.js';
import { UsageError, type Command } from './command.js';


/**
 * Closes the chat, tells the customer with the closing template, and returns the answer for the topic, which
 * also shows what the customer was told: one message into the group instead of two.
 */
async function closeAndTell(conversation: ConversationDoc, operator: OperatorDoc, reason: CloseReason, comment: string | undefined, config: Config): Promise<string> {
  const closed = await closeConversation(conversation, operator, reason, comment);
  const customer = await CustomerModel.findById(closed.customer);
  const said = { number: closed.number, name: operator.name, reason: reasonLabel(reason) };
  const answer = comment ? operatorText('close.closedWithComment', { ...said, comment }) : operatorText('close.closed', said);
  if (!customer || customer.unreachable) return answer;
  const farewell = await renderTemplate('messages', 'closed', customer.language ?? undefined, { customerName: customer.name ?? '', companyName: config.companyName });
  await sendSystemMessage(closed, farewell, { showInConsole: false });
  return `${answer}\n${operatorText('close.customerTold', { farewell })}`;
}

export const close: Command = {
  name: 'close',
  description: 'Close this chat with a reason (solved, no_response, transferred, other)',
  usage: '/close [solved|no_response|transferred|other] [comment]',
  role: 'operator',
  needsConversation: true,
  async run(ctx) {
    const conversation = conversationOf(ctx);
    if (!ctx.args) {
      await ctx.reply(operatorText('close.chooseReason', { number: conversation.number }), {
        buttons: CLOSE_REASONS.map((reason) => [{ text: reasonLabel(reason), data: `pick:${reason}` }]),
      });
      return;
    }
    const [word, ...commentWords] = ctx.args.split(/\s+/);
    const reason = parseCloseReason(word!);
    if (!reason) throw new UsageError(operatorText('close.notAReason', { word: word! }));
    await ctx.reply(await closeAndTell(conversation, ctx.operator, reason, commentWords.join(' ') || undefined, ctx.config));
  },
  async callback(ctx) {
    const conversation = conversationOf(ctx);
    const [step, reason] = ctx.data.split(':') as [string, CloseReason];
    if (!CLOSE_REASONS.includes(reason) && step !== 'cancel') return ctx.toast(operatorText('close.unknownReason'));
    if (step === 'pick') {
      await ctx.edit(operatorText('close.confirmQuestion', { number: conversation.number, reason: reasonLabel(reason) }), {
        buttons: [[{ text: operatorText('close.confirm'), data: `confirm:${reason}` }, { text: operatorText('close.cancel'), data: 'cancel' }]],
      });
      return;
    }
    if (step === 'cancel') return ctx.edit(operatorText('close.staysOpen', { number: conversation.number }));
    await ctx.edit(await closeAndTell(conversation, ctx.operator, reason, undefined, ctx.config));
  },
};
