import { DateTime } from 'luxon';

/**
 * The support team's working week: "mon-fri 09:00-18:00; sat 10:00-14:00" in a time zone, minus holidays.
 * SLA timers count only working time, and customers writing outside it get the out-of-hours notice.
 */
export interface BusinessHours {
  isOpen(at: Date): boolean;
  /** `at` itself when open, else the start of the next working interval. */
  nextOpening(at: Date): Date;
  /** The moment `durationMs` of working time has passed since `from`; a deadline landing on a closing time moves to the next opening. */
  addWorkingTime(from: Date, durationMs: number): Date;
}

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
/** Minutes since midnight, [start, end). */
type Interval = [number, number];

export class BusinessHoursError extends Error {
  override name = 'BusinessHoursError';
}

/** Parses the weekly schedule; throws BusinessHoursError naming the bad part. */
export function parseSchedule(schedule: string): Interval[][] {
  const week: Interval[][] = DAYS.map(() => []);
  for (const entry of schedule.split(';').map((s) => s.trim()).filter(Boolean)) {
    const match = /^(\S+)\s+(.+)$/.exec(entry);
    if (!match) throw new BusinessHoursError(`"${entry}": expected days and hours like "mon-fri 09:00-18:00"`);
    const days = new Set<number>();
    for (const part of match[1]!.toLowerCase().split(',')) {
      const [from, to = from] = part.split('-');
      const a = DAYS.indexOf(from as (typeof DAYS)[number]);
      const b = DAYS.indexOf(to as (typeof DAYS)[number]);
      if (a < 0 || b < 0) throw new BusinessHoursError(`"${part}": expected days like mon, mon-fri or sat,sun`);
      for (let d = a; ; d = (d + 1) % 7) {
        days.add(d);
        if (d === b) break;
      }
    }
    for (const range of match[2]!.split(/\s*,\s*/)) {
      const t = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(range.trim());
      const start = t ? Number(t[1]) * 60 + Number(t[2]) : NaN;
      const end = t ? Number(t[3]) * 60 + Number(t[4]) : NaN;
      if (!(start >= 0 && start < end && end <= 1440)) throw new BusinessHoursError(`"${range}": expected hours like 09:00-18:00, start before end`);
      for (const d of days) week[d]!.push([start, end]);
    }
  }
  for (const intervals of week) intervals.sort((x, y) => x[0] - y[0]);
  if (week.every((d) => d.length === 0)) throw new BusinessHoursError('the schedule has no working hours at all');
  return week;
}

export function createBusinessHours(options: { schedule: string; timezone: string; holidays?: string[] }): BusinessHours {
  const week = parseSchedule(options.schedule);
  const zone = options.timezone;
  const holidays = new Set(options.holidays ?? []);
  if (!DateTime.now().setZone(zone).isValid) throw new BusinessHoursError(`unknown time zone "${zone}"`);

  /** Working intervals as absolute times, from the day of `from` on; a year ahead at most. */
  function* intervalsFrom(from: Date): Generator<[number, number]> {
    let day = DateTime.fromJSDate(from, { zone }).startOf('day');
    for (let i = 0; i < 400; i++, day = day.plus({ days: 1 })) {
      if (holidays.has(day.toISODate()!)) continue;
      for (const [start, end] of week[day.weekday - 1]!) {
        const at = (minutes: number) => day.set({ hour: Math.floor(minutes / 60), minute: minutes % 60 }).toMillis();
        const endMs = end === 1440 ? day.plus({ days: 1 }).toMillis() : at(end);
        if (endMs > from.getTime()) yield [Math.max(at(start), from.getTime()), endMs];
      }
    }
    throw new BusinessHoursError('no working time within a year: check BUSINESS_HOURS and HOLIDAYS');
  }

  return {
    isOpen(at) {
      const [start] = intervalsFrom(at).next().value!;
      return start === at.getTime();
    },
    nextOpening(at) {
      return new Date(intervalsFrom(at).next().value![0]);
    },
    addWorkingTime(from, durationMs) {
      let remaining = durationMs;
      for (const [start, end] of intervalsFrom(from)) {
        if (remaining < end - start) return new Date(start + remaining);
        remaining -= end - start;
      }
      throw new BusinessHoursError('unreachable');
    },
  };
}

/** Around the clock: what the gateway does when BUSINESS_HOURS is not set. */
export const ALWAYS_OPEN: BusinessHours = {
  isOpen: () => true,
  nextOpening: (at) => at,
  addWorkingTime: (from, durationMs) => new Date(from.getTime() + durationMs),
};
