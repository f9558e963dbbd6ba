import { setDuty } from '../src/assignment/duty.js';
import { UsageError, type Command } from './command.js';

export const duty: Command = {
  name: 'duty',
  description: 'Go on or off duty (on-duty operators are called for, and auto-assigned, new chats); "off handback" hands your unanswered chats back',
  usage: '/duty on|off [handback]',
  role: 'operator',
  needsConversation: false,
  async run(ctx) {
    const [word, option] = ctx.args.toLowerCase().split(/\s+/);
    if (word !== 'on' && word !== 'off') throw new UsageError(`You are ${ctx.operator.onDuty ? 'on' : 'off'} duty.`);
    if (option !== undefined && (word !== 'off' || option !== 'handback')) throw new UsageError(`"${option}" after "${word}": only "/duty off handback" takes a second word.`);
    const handedBack = await setDuty(ctx.operator, word === 'on', { handBack: option === 'handback' });
    const back = handedBack.length ? ` Handed back: ${handedBack.map((c) => `#${c.number}`).join(', ')}.` : option === 'handback' ? ' No unanswered chat to hand back.' : '';
    await ctx.reply(`${ctx.operator.name} is now ${word} duty.${back}`);
  },
};
