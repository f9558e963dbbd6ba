import { escapeHtml } from '../src/util/html.js';
import { mayRun, type Command } from './command.js';

export const help: Command = {
  name: 'help',
  description: 'List the commands you may use',
  usage: '/help',
  role: 'operator',
  needsConversation: false,
  async run(ctx) {
    const lines = ctx.services.commands.filter((c) => mayRun(ctx.operator, c)).map((c) => `<code>${escapeHtml(c.usage)}</code> — ${escapeHtml(c.description)}`);
    await ctx.reply(['<b>Commands</b>', ...lines, '', 'Type in a chat topic to answer the customer; start with <code>!</code> for an internal note.'].join('\n'), { html: true });
  },
};
