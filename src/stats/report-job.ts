import { operatorText } from '../i18n/operator-texts.js';
import type { Agenda } from 'agenda';
import { DateTime } from 'luxon';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { requestConsole } from '../console/actions.js';
import { parsePeriod, type StatsPeriod } from './period.js';
import { buildStatsAnswer } from './report.js';
import { isMarked, markOnce } from '../jobs/marks.js';
import { JobMarkModel } from '../db/models/index.js';
import { erasedByRetentionSince } from '../privacy/erase.js';

export const DAILY_REPORT_JOB = 'stats daily report';
export const WEEKLY_REPORT_JOB = 'stats weekly report';

const CRON_WEEKDAY = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } as const;
const DEFAULT_REPORT_AT = '09:00';

/** Yesterday, or the seven whole days before today, in the report time zone. */
export function reportPeriod(kind: 'daily' | 'weekly', timezone: string, now = new Date()): StatsPeriod {
  const today = DateTime.fromJSDate(now, { zone: timezone }).startOf('day');
  if (kind === 'daily') return parsePeriod('yesterday', today);
  const range = `${today.minus({ days: 7 }).toISODate()}..${today.minus({ days: 1 }).toISODate()}`;
  return parsePeriod(range, today);
}

/**
 * Computes a scheduled report and queues it as a notice to the General topic, once per report and period:
 * Agenda runs a job again when the process that ran it died, and the operators would read the report twice.
 */
export async function postReport(kind: 'daily' | 'weekly', deps: { config: Config; logger: Logger; now?: Date }): Promise<void> {
  const period = reportPeriod(kind, deps.config.stats.timezone, deps.now);
  // Named by its dates, not its label: the label is in the team's language, which may change between runs.
  const span = `${period.days[0]}..${period.days.at(-1)}`;
  const deed = `report:${kind}:${span}`;
  if (await isMarked(deed)) {
    deps.logger.info({ report: kind, period: period.label }, 'scheduled stats report was posted before; not again');
    return;
  }
  const title = operatorText(kind === 'daily' ? 'stats.dailyReport' : 'stats.weeklyReport');
  const answer = await buildStatsAnswer({ period }, { config: deps.config, title });
  const text = kind === 'daily' ? `${answer.text}${await retentionLine()}` : answer.text;
  const file = answer.chart ? { fileName: `${kind}-report-${span}.png`.replace(/[^\w.-]+/g, '_'), mimeType: 'image/png', dataBase64: answer.chart.toString('base64') } : undefined;
  // Keyed like the mark: a run that dies between the two queues nothing more while the first item waits.
  await requestConsole({ action: 'notice', text, html: true, file, alert: true }, { onceKey: deed });
  await markOnce(deed, undefined, deps.now ?? new Date());
  deps.logger.info({ report: kind, period: period.label, opened: answer.report.opened }, 'scheduled stats report queued');
}

/** What the retention job (RETENTION_AFTER) erased since the previous daily report, when it erased anything. */
async function retentionLine(): Promise<string> {
  const previous = await JobMarkModel.findOne({ _id: { $regex: '^report:daily:' } }).sort({ at: -1 }).lean();
  const erased = await erasedByRetentionSince(previous?.at);
  return erased > 0 ? `\n\n${operatorText('stats.retentionErased', { count: erased })}` : '';
}

/** Cron lines for the configured times; null when that report is off. */
export function reportSchedules(config: Config): { daily: string | null; weekly: string | null } {
  const [hour, minute] = (config.stats.dailyAt ?? DEFAULT_REPORT_AT).split(':').map(Number) as [number, number];
  return {
    daily: config.stats.dailyAt ? `${minute} ${hour} * * *` : null,
    weekly: config.stats.weeklyDay ? `${minute} ${hour} * * ${CRON_WEEKDAY[config.stats.weeklyDay]}` : null,
  };
}

/**
 * Defines the daily and weekly report jobs and schedules them (REPORT_DAILY_AT, REPORT_WEEKLY_DAY in
 * REPORT_TIMEZONE); a report switched off is unscheduled. `every` upserts one job per name, so every
 * gateway process may call this. Await it after the Agenda is constructed.
 */
export async function defineReportJobs(agenda: Agenda, deps: { config: Config; logger: Logger }): Promise<void> {
  agenda.define(DAILY_REPORT_JOB, async () => postReport('daily', deps));
  agenda.define(WEEKLY_REPORT_JOB, async () => postReport('weekly', deps));
  const schedules = reportSchedules(deps.config);
  const options = { timezone: deps.config.stats.timezone, skipImmediate: true };
  for (const [name, cron] of [
    [DAILY_REPORT_JOB, schedules.daily],
    [WEEKLY_REPORT_JOB, schedules.weekly],
  ] as const) {
    if (cron) await agenda.every(cron, name, undefined, options);
    else await agenda.cancel({ name });
  }
  deps.logger.info({ ...schedules, timezone: deps.config.stats.timezone }, 'stats report jobs scheduled');
}
