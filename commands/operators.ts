import { OperatorModel } from '../src/db/models/index.js';
import { escapeHtml } from '../src/util/html.js';
import type { Command } from './command.js';

export const operators: Command = {
  name: 'operators',
  description: 'List the operators, their roles and who is on duty',
  usage: '/operators',
  role: 'operator',
  needsConversation: false,
  async run(ctx) {
    const all = await OperatorModel.find({ active: true }).sort({ role: 1, name: 1 }).lean();
    const lines = all.map((o) => `${o.onDuty ? '🟢' : '⚪️'} ${escapeHtml(o.name)}${o.username ? ` @${escapeHtml(o.username)}` : ''} · ${o.role} · id <code>${o.telegramUserId}</code>`);
    await ctx.reply([`<b>Operators</b> (${all.length})`, ...lines].join('\n'), { html: true });
  },
};
