import type { Config } from '../config.js';
import { OperatorModel, type OperatorDoc } from '../db/models/index.js';
import { UsageError } from '../../commands/command.js';
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
}

/**
 * The first-response target the share "within SLA" is measured against: the jobs' FIRST_RESPONSE_SLA when
 * the configuration carries one, five minutes otherwise.
 */
export function firstResponseSlaSeconds(config: Config): number {
  const jobs = (config as unknown as { jobs?: { firstResponseSlaMs?: unknown } }).jobs;
  return typeof jobs?.firstResponseSlaMs === 'number' && jobs.firstResponseSlaMs > 0 ? Math.round(jobs.firstResponseSlaMs / 1000) : DEFAULT_FIRST_RESPONSE_SLA_SECONDS;
}

/** Finds the operator an `@username` argument names, case-insensitively; UsageError when nobody has it. */
export async function findOperatorByUsername(username: string): Promise<OperatorDoc> {
  const escaped = username.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const operator = await OperatorModel.findOne({ username: { $regex: `^${escaped}$`, $options: 'i' } });
  if (!operator) throw new UsageError(`No operator with the username @${username}.`);
  return operator;
}

/** Computes, formats and draws one report: what /stats answers and the scheduled reports post. */
export async function buildStatsAnswer(query: StatsQuery, options: { config: Config; title?: string; chart?: boolean }): Promise<StatsAnswer> {
  const operator = query.operatorUsername ? await findOperatorByUsername(query.operatorUsername) : undefined;
  const report = await computeStats({
    period: query.period,
    timezone: options.config.stats.timezone,
    slaSeconds: firstResponseSlaSeconds(options.config),
    channel: query.channel,
    operator: operator ? { id: operator._id, name: operator.name } : undefined,
  });
  const text = formatReport(report, options.title);
  const chart = options.chart !== false && report.opened > 0 ? await renderChart(report) : undefined;
  return { report, text, chart };
}
