import { CustomerModel } from '../src/db/models/index.js';
import { replyToCustomer } from '../src/conversations/operator-actions.js';
import { renderReplyTemplate } from '../src/reply-templates.js';
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
    if (!name) throw new UsageError('Name the template; /templates lists them.');
    const customer = await CustomerModel.findById(conversation.customer);
    const { text, language, missing } = await renderReplyTemplate(name, customer?.language ?? undefined, {
      customerName: customer?.name ?? '',
      operatorName: ctx.operator.name,
      companyName: ctx.config.companyName,
      chatNumber: conversation.number,
    });
    await replyToCustomer({ conversation, operator: ctx.operator, text, dedupeKey: ctx.actionKey });
    const fallback = missing ? ` (no ${missing} version, sent ${language})` : '';
    await ctx.reply(`📤 Sent template “${name}”${fallback}:\n${text}`);
  },
};
