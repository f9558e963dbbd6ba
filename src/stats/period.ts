import { DateTime } from 'luxon';
import { UsageError } from '../usage-error.js';
import { operatorText } from '../i18n/operator-texts.js';
import { CHANNEL_KINDS, type ChannelKind } from '../domain.js';

/** A half-open time range [from, to) with the label the report shows, e.g. "last 7 days". */
export interface StatsPeriod {
  from: Date;
  to: Date;
  label: string;
  /** Days of the range in the report's time zone, oldest first (yyyy-MM-dd), for per-day figures. */
  days: string[];
}

export interface StatsQuery {
  period: StatsPeriod;
  channel?: ChannelKind;
  /** Telegram username without the @, as typed. */
  operatorUsername?: string;
}

export const DEFAULT_PERIOD = '7d';
/** Longest range a date-range argument may span; keeps a typo like 2015-01-01 from scanning a decade. */
export const MAX_RANGE_DAYS = 400;

const ROLLING = /^(\d{1,3})d$/;
const RANGE = /^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$/;

/**
 * Reads `/stats` arguments in any order: one period (today, yesterday, 7d, 30d, Nd, YYYY-MM-DD..YYYY-MM-DD),
 * one channel name, one @operator. Throws UsageError naming the word it did not understand.
 */
export function parseStatsArgs(args: string, options: { now?: Date; timezone: string }): StatsQuery {
  const now = DateTime.fromJSDate(options.now ?? new Date(), { zone: options.timezone });
  let period: StatsPeriod | undefined;
  let channel: ChannelKind | undefined;
  let operatorUsername: string | undefined;
  for (const word of args.split(/\s+/).filter(Boolean)) {
    const lower = word.toLowerCase();
    if (lower.startsWith('@')) {
      if (operatorUsername) throw new UsageError(operatorText('stats.period.oneOperator', { first: operatorUsername, second: word }));
      if (!/^@\w{1,64}$/.test(word)) throw new UsageError(operatorText('stats.period.notOperator', { word }));
      operatorUsername = word.slice(1);
    } else if ((CHANNEL_KINDS as readonly string[]).includes(lower)) {
      if (channel) throw new UsageError(operatorText('stats.period.oneChannel', { first: channel, second: lower }));
      channel = lower as ChannelKind;
    } else {
      if (period) throw new UsageError(operatorText('stats.period.onePeriod', { word, first: period.label }));
      period = parsePeriod(lower, now);
    }
  }
  return { period: period ?? parsePeriod(DEFAULT_PERIOD, now), channel, operatorUsername };
}

/** One period word, relative to `now` (whose zone is the report's time zone). */
export function parsePeriod(word: string, now: DateTime): StatsPeriod {
  const today = now.startOf('day');
  if (word === 'today') return build(today, now, operatorText('stats.period.today'));
  if (word === 'yesterday') return build(today.minus({ days: 1 }), today, operatorText('stats.period.yesterday', { date: today.minus({ days: 1 }).toISODate()! }));
  const rolling = ROLLING.exec(word);
  if (rolling) {
    const days = Number(rolling[1]);
    if (days < 1 || days > MAX_RANGE_DAYS) throw new UsageError(operatorText('stats.period.outOfRange', { count: days, max: MAX_RANGE_DAYS }));
    // Whole calendar days: today plus the days before it, so per-day figures line up with dates.
    return build(today.minus({ days: days - 1 }), now, operatorText('stats.period.lastDays', { count: days }));
  }
  const range = RANGE.exec(word);
  if (range) {
    const start = DateTime.fromISO(range[1]!, { zone: now.zone });
    const end = DateTime.fromISO(range[2]!, { zone: now.zone });
    if (!start.isValid) throw new UsageError(operatorText('stats.period.badDate', { date: range[1]! }));
    if (!end.isValid) throw new UsageError(operatorText('stats.period.badDate', { date: range[2]! }));
    if (end < start) throw new UsageError(operatorText('stats.period.backwards', { range: word }));
    const span = end.diff(start, 'days').days + 1;
    if (span > MAX_RANGE_DAYS) throw new UsageError(operatorText('stats.period.tooLong', { count: Math.round(span), max: MAX_RANGE_DAYS }));
    const label = range[1] === range[2] ? range[1]! : operatorText('stats.period.range', { from: range[1]!, to: range[2]! });
    return build(start, end.plus({ days: 1 }), label);
  }
  throw new UsageError(operatorText('stats.period.unknownWord', { word, channels: CHANNEL_KINDS.join(', ') }));
}

function build(from: DateTime, to: DateTime, label: string): StatsPeriod {
  const days: string[] = [];
  for (let day = from.startOf('day'); day < to; day = day.plus({ days: 1 })) days.push(day.toISODate()!);
  return { from: from.toJSDate(), to: to.toJSDate(), label, days };
}
