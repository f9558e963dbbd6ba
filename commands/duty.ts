import { OperatorModel } from '../src/db/models/index.js';
import { requestConsole } from '../src/console/actions.js';
import { UsageError, type Command } from './command.js';

export const duty: Command = {
  name: 'duty',
  description: 'Go on or off duty (on-duty operators are called for new chats)',
  usage: '/duty on|off',
  role: 'operator',
  needsConversation: false,
  async run(ctx) {
    const word = ctx.args.toLowerCase();
    if (word !== 'on' && word !== 'off') throw new UsageError(`You are ${ctx.operator.onDuty ? 'on' : 'off'} duty.`);
    await OperatorModel.updateOne({ _id: ctx.operator._id }, { $set: { onDuty: word === 'on' } });
    await requestConsole({ action: 'dashboard' });
    await ctx.reply(`${ctx.operator.name} is now ${word} duty.`);
  },
};
