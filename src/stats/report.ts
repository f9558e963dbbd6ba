import type { Config } from '../config.js';
import { OperatorModel, type OperatorDoc } from '../db/models/index.js';
import { UsageError } from '../usage-error.js';
import { operatorText } from '../i18n/operator-texts.js';
import { renderChart } from './chart.js';
import { computeStats, DEFAULT_FIRST_RESPONSE_SLA_SECONDS, type StatsReport } from './compute.js';
import { formatReport } from './format.js';
import type { StatsQuery } from './period.js';

export interface StatsAnswer {
  report: StatsReport;
  /** Telegram HTML, readable without the chart. */
  text: string;
  /** PNG, absent when the period has no chats to draw. */
  chart?: Buffer;
  /** Where the time went: reading and folding the conversations, and drawing the chart. */
  timings: { figuresMs: number; chartMs: number };
}

/** The first-response target "within SLA" is measured against: FIRST_RESPONSE_SLA, the one the SLA alert job uses. */
export function firstResponseSlaSeconds(config: Config): number {
  const ms = config.jobs?.firstResponseSlaMs;
  return typeof ms === 'number' && ms > 0 ? Math.round(ms / 1000) : DEFAULT_FIRST_RESPONSE_SLA_SECONDS;
}

/** Finds the operator an `@username` argument names, case-insensitively; UsageError when nobody has it. */
export async function findOperatorByUsername(username: string): Promise<OperatorDoc> {
  const escaped = username.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const operator = await OperatorModel.findOne({ username: { $regex: `^${escaped}$`, $options: 'i' } });
  if (!operator) throw new UsageError(operatorText('stats.noSuchOperator', { username }));
  return operator;
}

/** Computes, formats and draws one report: what /stats answers and the scheduled reports post. */
export async function buildStatsAnswer(query: StatsQuery, options: { config: Config; title?: string; chart?: boolean }): Promise<StatsAnswer> {
  const operator = query.operatorUsername ? await findOperatorByUsername(query.operatorUsername) : undefined;
  const started = performance.now();
  const report = await computeStats({
    period: query.period,
    timezone: options.config.stats.timezone,
    slaSeconds: firstResponseSlaSeconds(options.config),
    channel: query.channel,
    operator: operator ? { id: operator._id, name: operator.name } : undefined,
  });
  const text = formatReport(report, options.title);
  const figuresDone = performance.now();
  const chart = options.chart !== false && report.opened > 0 ? await renderChart(report) : undefined;
  const timings = { figuresMs: Math.round(figuresDone - started), chartMs: Math.round(performance.now() - figuresDone) };
  return { report, text, chart, timings };
}
