import { addNote } from '../src/conversations/operator-actions.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { conversationOf } from './arguments.js';
import { UsageError, type Command } from './command.js';

export const note: Command = {
  name: 'note',
  description: 'Add an internal note (never sent to the customer)',
  usage: '/note text',
  role: 'operator',
  needsConversation: true,
  async run(ctx) {
    if (!ctx.args) throw new UsageError(operatorText('note.empty'));
    await addNote(conversationOf(ctx), ctx.operator, ctx.args);
    await ctx.reply(operatorText('note.saved'));
  },
};
