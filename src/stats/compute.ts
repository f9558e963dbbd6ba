import { DateTime } from 'luxon';
import type { Types } from 'mongoose';
import { OperatorModel } from '../db/models/index.js';
import { CLOSE_REASONS, type ChannelKind, type CloseReason } from '../domain.js';
import type { ConversationFacts } from './fetch.js';
import { conversationFactsFromBuckets } from './fetch-buckets.js';
import { average, spread } from './figures.js';
import type { StatsPeriod } from './period.js';

export const OPEN_STATUS_LIST = ['new', 'active', 'awaiting', 'transferred'] as const;
export type OpenStatus = (typeof OPEN_STATUS_LIST)[number];

/** Used when the configuration names no first-response SLA. */
export const DEFAULT_FIRST_RESPONSE_SLA_SECONDS = 5 * 60;

export interface Spread {
  count: number;
  median?: number;
  p90?: number;
}

export interface GroupFigures {
  /** Chats opened in the period. */
  opened: number;
  /** Chats closed in the period (whenever they were opened). */
  closed: number;
  firstResponse: Spread;
  csatAverage?: number;
  rated: number;
}

export interface OperatorFigures extends GroupFigures {
  operatorId: string;
  name: string;
}

export interface ChannelFigures extends GroupFigures {
  channel: ChannelKind;
}

export interface StatsReport {
  period: StatsPeriod;
  timezone: string;
  channel?: ChannelKind;
  operator?: { id: string; name: string };
  opened: number;
  closed: number;
  closedByReason: Record<CloseReason, number>;
  /** Chats opened in the period that are still open now, by status. */
  stillOpen: number;
  openByStatus: Record<OpenStatus, number>;
  firstResponse: Spread & { slaSeconds: number; withinSla: number; shareWithinSla?: number; unanswered: number };
  resolution: Spread;
  csat: { rated: number; average?: number; distribution: Record<number, number>; shareRated?: number };
  /** Average messages per chat opened in the period. */
  messages: { customerPerChat?: number; operatorPerChat?: number };
  perOperator: OperatorFigures[];
  perChannel: ChannelFigures[];
  /** Chats opened per hour of the day (0-23, report time zone). */
  hourly: number[];
  /** The hours with most chats opened, busiest first (at most three, none when nothing was opened). */
  busiestHours: Array<{ hour: number; opened: number }>;
  /** Chats opened per day and channel, and the day's first-response median: what the chart draws. */
  daily: Array<{ day: string; byChannel: Partial<Record<ChannelKind, number>>; firstResponseMedian?: number }>;
}

export interface StatsOptions {
  period: StatsPeriod;
  timezone: string;
  slaSeconds?: number;
  channel?: ChannelKind;
  operator?: { id: Types.ObjectId; name: string };
}

class Group {
  opened = 0;
  closed = 0;
  firstResponses: number[] = [];
  ratings: number[] = [];
  figures(): GroupFigures {
    return { opened: this.opened, closed: this.closed, firstResponse: spread(this.firstResponses), csatAverage: average(this.ratings), rated: this.ratings.length };
  }
}

/** Maps instants to local hour and day, cached per UTC hour: luxon per document would dominate the run time. */
function localClock(timezone: string) {
  const cache = new Map<number, { hour: number; day: string }>();
  return (at: Date) => {
    const utcHour = Math.floor(at.getTime() / 3_600_000);
    let local = cache.get(utcHour);
    if (!local) {
      const t = DateTime.fromMillis(utcHour * 3_600_000, { zone: timezone });
      local = { hour: t.hour, day: t.toISODate()! };
      cache.set(utcHour, local);
    }
    return local;
  };
}

/** Folds conversation facts into the report figures (pure: no database access). */
export async function summarize(facts: AsyncIterable<ConversationFacts> | Iterable<ConversationFacts>, options: StatsOptions): Promise<Omit<StatsReport, 'perOperator'> & { perOperatorIds: Array<GroupFigures & { operatorId: string }> }> {
  const { period } = options;
  const from = period.from.getTime();
  const to = period.to.getTime();
  const slaSeconds = options.slaSeconds ?? DEFAULT_FIRST_RESPONSE_SLA_SECONDS;
  const clock = localClock(options.timezone);

  const closedByReason = Object.fromEntries(CLOSE_REASONS.map((r) => [r, 0])) as Record<CloseReason, number>;
  const openByStatus = Object.fromEntries(OPEN_STATUS_LIST.map((s) => [s, 0])) as Record<OpenStatus, number>;
  const firstResponses: number[] = [];
  const resolutions: number[] = [];
  const ratings: number[] = [];
  const distribution: Record<number, number> = {};
  const hourly = new Array<number>(24).fill(0);
  const byOperator = new Map<string, Group>();
  const byChannel = new Map<ChannelKind, Group>();
  const days = new Map(period.days.map((day) => [day, { byChannel: {} as Partial<Record<ChannelKind, number>>, firstResponses: [] as number[] }]));
  let opened = 0;
  let closed = 0;
  let unanswered = 0;
  let withinSla = 0;
  let messagesIn = 0;
  let messagesOut = 0;

  const groupOf = <K>(map: Map<K, Group>, key: K) => {
    let group = map.get(key);
    if (!group) map.set(key, (group = new Group()));
    return group;
  };

  for await (const c of facts) {
    const createdAt = c.createdAt.getTime();
    const closedAt = c.closedAt?.getTime();
    const channelGroup = groupOf(byChannel, c.channel);
    const operatorGroup = c.owner ? groupOf(byOperator, String(c.owner)) : undefined;

    if (createdAt >= from && createdAt < to) {
      opened += 1;
      channelGroup.opened += 1;
      if (operatorGroup) operatorGroup.opened += 1;
      if ((OPEN_STATUS_LIST as readonly string[]).includes(c.status)) openByStatus[c.status as OpenStatus] += 1;
      messagesIn += c.counts?.in ?? 0;
      messagesOut += c.counts?.out ?? 0;
      const { hour, day } = clock(c.createdAt);
      hourly[hour]! += 1;
      const dayBucket = days.get(day);
      if (dayBucket) dayBucket.byChannel[c.channel] = (dayBucket.byChannel[c.channel] ?? 0) + 1;
      if (typeof c.firstResponseSeconds === 'number') {
        firstResponses.push(c.firstResponseSeconds);
        channelGroup.firstResponses.push(c.firstResponseSeconds);
        operatorGroup?.firstResponses.push(c.firstResponseSeconds);
        dayBucket?.firstResponses.push(c.firstResponseSeconds);
        if (c.firstResponseSeconds <= slaSeconds) withinSla += 1;
      } else {
        unanswered += 1;
      }
    }

    if (closedAt !== undefined && closedAt >= from && closedAt < to) {
      closed += 1;
      channelGroup.closed += 1;
      if (operatorGroup) operatorGroup.closed += 1;
      if (c.closeReason && c.closeReason in closedByReason) closedByReason[c.closeReason] += 1;
      if (typeof c.resolutionSeconds === 'number') resolutions.push(c.resolutionSeconds);
      const score = c.rating?.score;
      if (typeof score === 'number') {
        ratings.push(score);
        channelGroup.ratings.push(score);
        operatorGroup?.ratings.push(score);
        distribution[score] = (distribution[score] ?? 0) + 1;
      }
    }
  }

  const firstResponse = spread(firstResponses);
  const busiestHours = hourly
    .map((count, hour) => ({ hour, opened: count }))
    .filter((h) => h.opened > 0)
    .sort((a, b) => b.opened - a.opened || a.hour - b.hour)
    .slice(0, 3);

  return {
    period,
    timezone: options.timezone,
    channel: options.channel,
    operator: options.operator ? { id: String(options.operator.id), name: options.operator.name } : undefined,
    opened,
    closed,
    closedByReason,
    stillOpen: Object.values(openByStatus).reduce((a, b) => a + b, 0),
    openByStatus,
    firstResponse: { ...firstResponse, slaSeconds, withinSla, shareWithinSla: firstResponse.count > 0 ? withinSla / firstResponse.count : undefined, unanswered },
    resolution: spread(resolutions),
    csat: { rated: ratings.length, average: average(ratings), distribution, shareRated: closed > 0 ? ratings.length / closed : undefined },
    messages: { customerPerChat: opened > 0 ? messagesIn / opened : undefined, operatorPerChat: opened > 0 ? messagesOut / opened : undefined },
    perOperatorIds: [...byOperator].map(([operatorId, group]) => ({ operatorId, ...group.figures() })).filter((g) => g.opened + g.closed > 0),
    perChannel: [...byChannel]
      .map(([channel, group]) => ({ channel, ...group.figures() }))
      .filter((g) => g.opened + g.closed > 0)
      .sort((a, b) => b.opened - a.opened || b.closed - a.closed),
    hourly,
    busiestHours,
    daily: [...days].map(([day, bucket]) => ({ day, byChannel: bucket.byChannel, firstResponseMedian: spread(bucket.firstResponses).median })),
  };
}

/** Reads the period's conversation facts from the read model and computes the report, operators named. */
export async function computeStats(options: StatsOptions): Promise<StatsReport> {
  const facts = conversationFactsFromBuckets({ from: options.period.from, to: options.period.to, channel: options.channel, owner: options.operator?.id });
  const { perOperatorIds, ...report } = await summarize(facts, options);
  const operators = await OperatorModel.find({ _id: { $in: perOperatorIds.map((o) => o.operatorId) } }, { name: 1, username: 1 }).lean();
  const names = new Map(operators.map((o) => [String(o._id), o.name]));
  const perOperator = perOperatorIds
    .map((o) => ({ ...o, name: names.get(o.operatorId) ?? `operator ${o.operatorId.slice(-6)}` }))
    .sort((a, b) => b.closed - a.closed || b.opened - a.opened || a.name.localeCompare(b.name));
  return { ...report, perOperator };
}
