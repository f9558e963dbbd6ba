import { setDuty } from '../src/assignment/duty.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { UsageError, type Command } from './command.js';

export const duty: Command = {
  name: 'duty',
  description: 'Go on or off duty (on-duty operators are called for, and auto-assigned, new chats); "off handback" hands your unanswered chats back',
  usage: '/duty on|off [handback]',
  role: 'operator',
  needsConversation: false,
  async run(ctx) {
    const [word, option] = ctx.args.toLowerCase().split(/\s+/);
    if (word !== 'on' && word !== 'off') throw new UsageError(ctx.operator.onDuty ? operatorText('duty.youAreOn') : operatorText('duty.youAreOff'));
    if (option !== undefined && (word !== 'off' || option !== 'handback')) throw new UsageError(operatorText('duty.onlyHandback', { option, word }));
    const handedBack = await setDuty(ctx.operator, word === 'on', { handBack: option === 'handback' });
    const now = word === 'on' ? operatorText('duty.nowOn', { name: ctx.operator.name }) : operatorText('duty.nowOff', { name: ctx.operator.name });
    const back = handedBack.length
      ? operatorText('duty.handedBack', { count: handedBack.length, chats: handedBack.map((c) => `#${c.number}`).join(', ') })
      : option === 'handback' ? operatorText('duty.nothingToHandBack') : '';
    await ctx.reply([now, back].filter(Boolean).join(' '));
  },
};
