import { Types } from 'mongoose';
import { ConversationModel, type ConversationDoc } from '../src/db/models/index.js';
import { eraseCustomer, type Erased } from '../src/privacy/erase.js';
import { requestConsole } from '../src/console/actions.js';
import { conversationOf } from './arguments.js';
import type { Button, Command } from './command.js';

const question = (conversation: ConversationDoc) =>
  `🗑 Erase the customer of chat #${conversation.number}? Their profile, every chat of theirs with its messages and files, and the chats' copies in this group go for good; statistics keep anonymous counts.`;

/** The buttons of the question; they name the chat, so they also work under a notice in General. */
const forgetButtons = (conversationId: Types.ObjectId | string): Button[][] => [[{ text: '🗑 Erase for good', data: `erase:${conversationId}` }, { text: 'Cancel', data: 'cancel' }]];

const summary = (number: number, erased: Erased, by: string) =>
  `🗑 The customer of chat #${number} was erased by ${by}: ${erased.conversations} chat(s), ${erased.messages} message(s), ${erased.files} file(s).`;

export const forget: Command = {
  name: 'forget',
  description: "Erase this chat's customer: profile, chats, messages, files and their copies here (asks first)",
  usage: '/forget',
  role: 'supervisor',
  needsConversation: true,
  async run(ctx) {
    const conversation = conversationOf(ctx);
    await ctx.reply(question(conversation), { buttons: forgetButtons(conversation._id) });
  },
  async callback(ctx) {
    const [step, id] = ctx.data.split(':');
    if (step === 'cancel') return ctx.edit('Nothing was erased.');
    const conversation = id && Types.ObjectId.isValid(id) ? await ConversationModel.findById(id) : null;
    if (!conversation) return ctx.edit('That chat no longer exists: its customer was erased already.');
    if (step === 'ask') return ctx.edit(question(conversation), { buttons: forgetButtons(conversation._id) });
    // The question may sit in the chat's topic, which the erasure deletes: the answer goes to the General topic.
    await ctx.edit(`🗑 Erasing the customer of chat #${conversation.number}…`);
    const erased = await eraseCustomer(conversation.customer, { kind: 'operator', telegramUserId: ctx.operator.telegramUserId });
    await requestConsole({ action: 'notice', text: summary(conversation.number, erased, ctx.operator.name) });
  },
};
