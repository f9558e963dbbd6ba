import { exportConversationsCsv } from '../src/stats/csv.js';
import { parseStatsArgs, type StatsQuery } from '../src/stats/period.js';
import { buildStatsAnswer, findOperatorByUsername } from '../src/stats/report.js';
import { escapeHtml } from '../src/util/html.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import type { Command, CommandContext } from './command.js';

/** /stats [export] [period] [channel] [@operator]: figures with a chart, or a CSV of the period's conversations. */
export const stats: Command = {
  name: 'stats',
  description: 'Support statistics with a chart; "/stats export" sends a CSV',
  usage: '/stats [export] [today|yesterday|7d|30d|YYYY-MM-DD..YYYY-MM-DD] [channel] [@operator]',
  role: 'supervisor',
  needsConversation: false,
  async run(ctx) {
    const [first, ...rest] = ctx.args.split(/\s+/).filter(Boolean);
    const exporting = first?.toLowerCase() === 'export';
    const query = parseStatsArgs(exporting ? rest.join(' ') : ctx.args, { timezone: ctx.config.stats.timezone });
    if (exporting) return exportCsv(ctx, query);

    const started = Date.now();
    const answer = await buildStatsAnswer(query, { config: ctx.config });
    ctx.logger.info({ period: query.period.label, opened: answer.report.opened, ms: Date.now() - started, ...answer.timings }, 'stats computed');
    await ctx.reply(answer.text, { html: true });
    if (answer.chart) await ctx.replyFile({ fileName: 'stats.png', mimeType: 'image/png', content: answer.chart });
  },
};

async function exportCsv(ctx: CommandContext, query: StatsQuery): Promise<void> {
  const operator = query.operatorUsername ? await findOperatorByUsername(query.operatorUsername) : undefined;
  const { period } = query;
  const { csv, rows } = await exportConversationsCsv({ from: period.from, to: period.to, channel: query.channel, owner: operator?._id });
  const scope = [period.label, query.channel, operator && `@${operator.username ?? operator.name}`].filter(Boolean).join(', ');
  if (rows === 0) {
    await ctx.reply(operatorText('stats.exportEmpty', { scope: escapeHtml(scope) }), { html: true });
    return;
  }
  const first = period.days[0] ?? 'period';
  const last = period.days.at(-1) ?? first;
  const fileName = `conversations-${first === last ? first : `${first}-to-${last}`}${query.channel ? `-${query.channel}` : ''}.csv`;
  await ctx.replyFile({ fileName, mimeType: 'text/csv', content: csv }, operatorText('stats.exportCaption', { count: rows, scope }));
}
