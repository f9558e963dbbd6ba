import { PRIORITIES, type Priority } from '../src/domain.js';
import { setPriority } from '../src/conversations/operator-actions.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { conversationOf } from './arguments.js';
import { UsageError, type Command } from './command.js';

export const priority: Command = {
  name: 'priority',
  description: "Set this chat's priority",
  usage: '/priority high|normal|low',
  role: 'operator',
  needsConversation: true,
  async run(ctx) {
    const value = ctx.args.toLowerCase();
    if (!(PRIORITIES as readonly string[]).includes(value)) throw new UsageError(operatorText('priority.notAPriority', { given: ctx.args }));
    const conversation = conversationOf(ctx);
    await setPriority(conversation, value as Priority);
    await ctx.reply(operatorText('priority.changed', { number: conversation.number, priority: operatorText(`priority.level.${value}`) }));
  },
};
