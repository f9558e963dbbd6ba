import { OperatorModel } from '../src/db/models/index.js';
import { escapeHtml } from '../src/util/html.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import type { Command } from './command.js';

export const operators: Command = {
  name: 'operators',
  description: 'List the operators, their roles and who is on duty',
  usage: '/operators',
  role: 'operator',
  needsConversation: false,
  async run(ctx) {
    const all = await OperatorModel.find({ active: true }).sort({ role: 1, name: 1 }).lean();
    const lines = all.map((o) =>
      operatorText('operators.line', { mark: o.onDuty ? '🟢' : '⚪️', name: escapeHtml(o.name), username: o.username ? ` @${escapeHtml(o.username)}` : '', role: operatorText(`operators.role.${o.role}`), id: o.telegramUserId }),
    );
    await ctx.reply([operatorText('operators.title', { count: all.length }), ...lines].join('\n'), { html: true });
  },
};
