import { DateTime } from 'luxon';
import { OperatorModel } from '../src/db/models/index.js';
import { OperatorActionError } from '../src/conversations/operator-actions.js';
import { OPERATOR_FOLLOWUP_JOB } from '../src/jobs/operator-followup.js';
import { REMINDER_JOB } from '../src/jobs/reminder.js';
import { AUTO_CLOSE_JOB } from '../src/jobs/auto-close.js';
import { SLA_ALERT_JOB } from '../src/jobs/sla-alert.js';
import { SURVEY_JOB } from '../src/jobs/survey.js';
import type { JobScheduler, PlannedJob } from '../src/jobs/scheduler.js';
import { operatorLanguage, operatorText } from '../src/i18n/operator-texts.js';
import { conversationOf } from './arguments.js';
import { UsageError, type Command, type CommandContext } from './command.js';

const UNIT_MS: Record<string, number> = { m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const MAX_DELAY_MS = 90 * 86_400_000;

/** "2h", "30m", "1h30m", "3d" → milliseconds; undefined when it is not a delay. */
export function parseDelay(word: string): number | undefined {
  if (!/^(\d+(?:min|m|h|d|w))+$/i.test(word)) return undefined;
  let total = 0;
  for (const [, amount, unit] of word.toLowerCase().matchAll(/(\d+)(min|m|h|d|w)/g)) total += Number(amount) * UNIT_MS[unit!]!;
  return total;
}

async function describe(job: PlannedJob): Promise<string> {
  switch (job.name) {
    case OPERATOR_FOLLOWUP_JOB: {
      const operator = await OperatorModel.findById(String(job.data.operatorId)).lean().catch(() => null);
      return operatorText('remind.followUp', { operator: operator?.name ?? operatorText('remind.someOperator'), text: String(job.data.text) });
    }
    case REMINDER_JOB:
      return operatorText('remind.customerReminder', { n: String(job.data.n) });
    case AUTO_CLOSE_JOB:
      return operatorText('remind.autoClose');
    case SLA_ALERT_JOB:
      return Number(job.data.level) >= 2 ? operatorText('remind.escalation') : operatorText('remind.responseTimeAlert');
    case SURVEY_JOB:
      return operatorText('remind.survey');
    default:
      return job.name;
  }
}

function schedulerOf(ctx: CommandContext): JobScheduler {
  if (!ctx.services.scheduler) throw new OperatorActionError(operatorText('remind.notRunning'));
  return ctx.services.scheduler;
}

function when(ctx: CommandContext, at: Date): string {
  const zone = ctx.config.jobs.businessHours?.timezone ?? 'UTC';
  const minutes = Math.max(0, Math.round((at.getTime() - Date.now()) / 60_000));
  return operatorText('remind.at', { date: DateTime.fromJSDate(at, { zone }).setLocale(operatorLanguage()).toFormat('ccc dd LLL HH:mm'), delay: delayText(minutes) });
}

function delayText(minutes: number): string {
  if (minutes < 60) return operatorText('remind.minutes', { count: minutes });
  if (minutes >= 2880) return operatorText('remind.days', { count: Math.floor(minutes / 1440) });
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? operatorText('remind.hoursMinutes', { hours, minutes: minutes % 60 }) : operatorText('remind.hours', { count: hours });
}

export const remind: Command = {
  name: 'remind',
  description: 'Remind yourself about this chat later; alone, list its planned jobs',
  usage: '/remind 2h text · /remind · /remind cancel N',
  role: 'operator',
  needsConversation: true,
  async run(ctx) {
    const conversation = conversationOf(ctx);
    const scheduler = schedulerOf(ctx);
    const conversationId = String(conversation._id);
    const [first, ...rest] = ctx.args.split(/\s+/).filter(Boolean);

    if (!first) {
      const jobs = await scheduler.planned({ conversationId });
      if (jobs.length === 0) return ctx.reply(operatorText('remind.nothingPlanned', { number: conversation.number }));
      const lines = await Promise.all(jobs.map(async (job, i) => `${i + 1}. ${when(ctx, job.nextRunAt)} — ${await describe(job)}`));
      return ctx.reply(operatorText('remind.planned', { number: conversation.number, jobs: lines.join('\n') }));
    }

    if (first.toLowerCase() === 'cancel') {
      const n = Number(rest[0]);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(operatorText('remind.whichOne'));
      const jobs = await scheduler.planned({ conversationId });
      const job = jobs[n - 1];
      if (!job) throw new OperatorActionError(operatorText('remind.noSuchJob', { n, number: conversation.number }));
      const cancelled = await scheduler.cancelById(job.id);
      return ctx.reply(cancelled ? operatorText('remind.cancelled', { job: await describe(job) }) : operatorText('remind.alreadyGone'));
    }

    const delay = parseDelay(first);
    if (delay === undefined) throw new UsageError(operatorText('remind.notADelay', { given: first }));
    if (delay < 60_000 || delay > MAX_DELAY_MS) throw new UsageError(operatorText('remind.delayRange'));
    const text = rest.join(' ');
    const at = new Date(Date.now() + delay);
    await scheduler.schedule(at, OPERATOR_FOLLOWUP_JOB, { conversationId, operatorId: String(ctx.operator._id), text });
    const planned = { number: conversation.number, at: when(ctx, at), text };
    await ctx.reply(text ? operatorText('remind.scheduledWithText', planned) : operatorText('remind.scheduled', planned));
  },
};
