import { CustomerModel } from '../src/db/models/index.js';
import { replyToCustomer } from '../src/conversations/operator-actions.js';
import { renderReplyTemplate } from '../src/reply-templates.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { conversationOf } from './arguments.js';
import { UsageError, type Command } from './command.js';

export const t: Command = {
  name: 't',
  description: 'Send a reply template to the customer, in their language',
  usage: '/t name',
  role: 'operator',
  needsConversation: true,
  async run(ctx) {
    const conversation = conversationOf(ctx);
    const name = ctx.args.split(/\s+/)[0];
    if (!name) throw new UsageError(operatorText('t.nameIt'));
    const customer = await CustomerModel.findById(conversation.customer);
    const { text, language, missing } = await renderReplyTemplate(name, customer?.language ?? undefined, {
      customerName: customer?.name ?? '',
      operatorName: ctx.operator.name,
      companyName: ctx.config.companyName,
      chatNumber: conversation.number,
    });
    await replyToCustomer({ conversation, operator: ctx.operator, text, dedupeKey: ctx.actionKey });
    await ctx.reply(missing ? operatorText('t.sentInOtherLanguage', { name, missing, language, text }) : operatorText('t.sent', { name, text }));
  },
};
