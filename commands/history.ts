import { MessageModel } from '../src/db/models/index.js';
import { transcriptLine } from '../src/console/telegram/transcript.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { conversationOf } from './arguments.js';
import { UsageError, type Command } from './command.js';

export const history: Command = {
  name: 'history',
  description: 'Transcript of this chat: times, authors, delivery, attachments',
  usage: '/history [number of messages, default 20, at most 200]',
  role: 'operator',
  needsConversation: true,
  async run(ctx) {
    const conversation = conversationOf(ctx);
    const count = ctx.args ? Number(ctx.args) : 20;
    if (!Number.isInteger(count) || count < 1 || count > 200) throw new UsageError(operatorText('history.notANumber', { value: ctx.args }));
    const messages = (await MessageModel.find({ conversation: conversation._id }).sort({ createdAt: -1 }).limit(count).lean()).reverse();
    if (messages.length === 0) return ctx.reply(operatorText('history.noMessages', { number: conversation.number }));
    const lines = messages.map(transcriptLine);
    await ctx.reply([operatorText('history.heading', { number: conversation.number, count: messages.length }), ...lines].join('\n'), { html: true });
  },
};
