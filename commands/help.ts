import { escapeHtml } from '../src/util/html.js';
import { commandDescription, operatorText } from '../src/i18n/operator-texts.js';
import { mayRun, type Command } from './command.js';

export const help: Command = {
  name: 'help',
  description: 'List the commands you may use',
  usage: '/help',
  role: 'operator',
  needsConversation: false,
  async run(ctx) {
    const lines = ctx.services.commands.filter((c) => mayRun(ctx.operator, c)).map((c) => `<code>${escapeHtml(c.usage)}</code> — ${escapeHtml(commandDescription(c.name, c.description))}`);
    await ctx.reply([`<b>${operatorText('help.title')}</b>`, ...lines, '', operatorText('help.footer')].join('\n'), { html: true });
  },
};
