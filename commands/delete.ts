import { MessageModel } from '../src/db/models/index.js';
import { deleteAnswer } from '../src/conversations/message-changes.js';
import { channelLabel } from '../src/console/telegram/render.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { conversationOf } from './arguments.js';
import { UsageError, type Command } from './command.js';

/** Telegram does not tell bots that a message was deleted in the group: deleting an answer is this command. */
export const deleteCommand: Command = {
  name: 'delete',
  description: 'Reply to your answer: delete it at the customer too, marked deleted in /history',
  usage: '/delete (as a reply to the answer)',
  role: 'operator',
  needsConversation: true,
  async run(ctx) {
    const conversation = conversationOf(ctx);
    const replied = ctx.repliedToMessageId;
    if (!replied) throw new UsageError(operatorText('delete.replyToAnswer'));
    const message = await MessageModel.findOne({ conversation: conversation._id, $or: [{ consoleMessageId: replied }, { consoleMessageIds: replied }] });
    if (!message) throw new UsageError(operatorText('delete.notInChat', { number: conversation.number }));
    await deleteAnswer(message, ctx.operator);
    const canDelete = ctx.services.channelCapabilities?.(conversation.channel)?.delete;
    await ctx.reply(
      canDelete
        ? operatorText('delete.deleted')
        : operatorText('delete.markedOnly', { channel: channelLabel(conversation.channel) }),
    );
  },
};
