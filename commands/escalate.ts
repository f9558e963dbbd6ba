import { requestConsole } from '../src/console/actions.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { conversationOf } from './arguments.js';
import { UsageError, type Command } from './command.js';
import { updateConversation } from '../src/db/serialized-writes.js';

export const escalate: Command = {
  name: 'escalate',
  description: 'Ask the supervisors for help with this chat',
  usage: '/escalate comment',
  role: 'operator',
  needsConversation: true,
  async run(ctx) {
    const conversation = conversationOf(ctx);
    if (!ctx.args) throw new UsageError(operatorText('escalate.sayWhat'));
    await updateConversation(conversation._id, { $set: { priority: 'high' }, $addToSet: { tags: 'escalated' } });
    await requestConsole({ action: 'conversationChanged', conversation: conversation._id });
    await requestConsole({ action: 'notice', conversation: conversation._id, text: operatorText('escalate.escalated', { name: ctx.operator.name, number: conversation.number, comment: ctx.args }), mention: 'supervisors' });
  },
};
