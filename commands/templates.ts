import { listReplyTemplates } from '../src/reply-templates.js';
import { escapeHtml } from '../src/util/html.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import type { Command } from './command.js';

export const templates: Command = {
  name: 'templates',
  description: 'List the reply templates for /t',
  usage: '/templates',
  role: 'operator',
  needsConversation: false,
  async run(ctx) {
    const all = await listReplyTemplates();
    if (all.length === 0) return ctx.reply(operatorText('templates.noneYet'));
    await ctx.reply([operatorText('templates.title'), ...all.map((tpl) => `<code>${escapeHtml(tpl.name)}</code> — ${tpl.languages.join(', ')}`)].join('\n'), { html: true });
  },
};
