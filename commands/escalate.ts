import { requestConsole } from '../src/console/actions.js';
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
    if (!ctx.args) throw new UsageError('Say what the supervisors should look at.');
    await updateConversation(conversation._id, { $set: { priority: 'high' }, $addToSet: { tags: 'escalated' } });
    await requestConsole({ action: 'conversationChanged', conversation: conversation._id });
    await requestConsole({ action: 'notice', conversation: conversation._id, text: `⬆️ ${ctx.operator.name} escalated chat #${conversation.number}: ${ctx.args}`, mention: 'supervisors' });
  },
};
