import { ConversationModel, OperatorModel } from '../src/db/models/index.js';
import { takeConversation } from '../src/conversations/operator-actions.js';
import { requestConsole } from '../src/console/actions.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { conversationOf } from './arguments.js';
import type { Command } from './command.js';

export const take: Command = {
  name: 'take',
  description: 'Take this chat: you become its owner',
  usage: '/take',
  role: 'operator',
  needsConversation: true,
  async run(ctx) {
    const taken = await takeConversation(conversationOf(ctx), ctx.operator);
    await ctx.reply(operatorText('take.took', { operator: ctx.operator.name, number: taken.number }));
  },
  /** The Take button under a new-chat alert carries the conversation id. */
  async callback(ctx) {
    const conversation = await ConversationModel.findById(ctx.data);
    if (!conversation) return ctx.toast(operatorText('take.chatGone'));
    // The alert offers a new chat; one that someone took meanwhile (by answering, /take) is not taken over by a tap.
    const owner = conversation.owner && !conversation.owner.equals(ctx.operator._id) ? await OperatorModel.findById(conversation.owner).lean() : null;
    if (owner) {
      await ctx.edit(operatorText('take.takenBy', { number: conversation.number, operator: owner.name }));
      return ctx.toast(operatorText('take.alreadyTaken', { number: conversation.number, operator: owner.name }));
    }
    const taken = await takeConversation(conversation, ctx.operator);
    await ctx.edit(operatorText('take.takenBy', { number: taken.number, operator: ctx.operator.name }));
    await ctx.toast(operatorText('take.youTook', { number: taken.number }));
    await requestConsole({ action: 'notice', conversation: taken._id, text: operatorText('take.took', { operator: ctx.operator.name, number: taken.number }) });
  },
};
