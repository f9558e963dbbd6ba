import { reopenConversation } from '../src/conversations/operator-actions.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { conversationOf } from './arguments.js';
import type { Command } from './command.js';

export const reopen: Command = {
  name: 'reopen',
  description: 'Reopen this closed chat (you become its owner)',
  usage: '/reopen',
  role: 'operator',
  needsConversation: true,
  async run(ctx) {
    const reopened = await reopenConversation(conversationOf(ctx), ctx.operator);
    await ctx.reply(operatorText('reopen.reopened', { operator: ctx.operator.name, number: reopened.number }));
  },
};
