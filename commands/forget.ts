import { Types } from 'mongoose';
import { ConversationModel, type ConversationDoc } from '../src/db/models/index.js';
import { eraseCustomer, type Erased } from '../src/privacy/erase.js';
import { requestConsole } from '../src/console/actions.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { conversationOf } from './arguments.js';
import type { Button, Command } from './command.js';

const question = (conversation: ConversationDoc) => operatorText('forget.question', { number: conversation.number });

/** The buttons of the question; they name the chat, so they also work under a notice in General. */
const forgetButtons = (conversationId: Types.ObjectId | string): Button[][] => [
  [{ text: operatorText('forget.erase'), data: `erase:${conversationId}` }, { text: operatorText('forget.cancel'), data: 'cancel' }],
];

const summary = (number: number, erased: Erased, by: string) =>
  operatorText('forget.erased', {
    number,
    name: by,
    chats: operatorText('forget.chats', { count: erased.conversations }),
    messages: operatorText('forget.messages', { count: erased.messages }),
    files: operatorText('forget.files', { count: erased.files }),
  });

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
    if (step === 'cancel') return ctx.edit(operatorText('forget.nothingErased'));
    const conversation = id && Types.ObjectId.isValid(id) ? await ConversationModel.findById(id) : null;
    if (!conversation) return ctx.edit(operatorText('forget.alreadyErased'));
    if (step === 'ask') return ctx.edit(question(conversation), { buttons: forgetButtons(conversation._id) });
    // The question may sit in the chat's topic, which the erasure deletes: the answer goes to the General topic.
    await ctx.edit(operatorText('forget.erasing', { number: conversation.number }));
    const erased = await eraseCustomer(conversation.customer, { by: { kind: 'operator', telegramUserId: ctx.operator.telegramUserId }, plannedJobs: ctx.services.scheduler });
    await requestConsole({ action: 'notice', text: summary(conversation.number, erased, ctx.operator.name) });
  },
};
