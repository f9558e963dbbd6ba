import { ConversationModel } from '../src/db/models/index.js';
import { takeConversation } from '../src/conversations/operator-actions.js';
import { requestConsole } from '../src/console/actions.js';
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
    await ctx.reply(`✋ ${ctx.operator.name} took chat #${taken.number}.`);
  },
  /** The Take button under a new-chat alert carries the conversation id. */
  async callback(ctx) {
    const conversation = await ConversationModel.findById(ctx.data);
    if (!conversation) return ctx.toast('That chat no longer exists.');
    const taken = await takeConversation(conversation, ctx.operator);
    await ctx.edit(`✋ Chat #${taken.number} taken by ${ctx.operator.name}.`);
    await ctx.toast(`You took chat #${taken.number}.`);
    await requestConsole({ action: 'notice', conversation: taken._id, text: `✋ ${ctx.operator.name} took chat #${taken.number}.` });
  },
};
