import type { Db } from 'mongodb';
import type { Config } from '../config.js';
import { ConfigError } from '../config.js';
import type { Logger } from '../logger.js';
import { onTransition } from '../conversations/lifecycle.js';
import type { InboxHooks } from '../inbox.js';
import { ALWAYS_OPEN, BusinessHoursError, createBusinessHours, type BusinessHours } from './business-hours.js';
import type { JobsContext } from './context.js';
import { JobScheduler } from './scheduler.js';
import { REMINDER_JOB, runReminder, type ReminderData } from './reminder.js';
import { AUTO_CLOSE_JOB, runAutoClose, type AutoCloseData } from './auto-close.js';
import { SLA_ALERT_JOB, runSlaAlert, type SlaAlertData } from './sla-alert.js';
import { SURVEY_JOB, runSurvey, type SurveyData } from './survey.js';
import { ARCHIVE_JOB, runArchive } from './archive.js';
import { RETENTION_JOB, runRetention } from './retention.js';
import { OPERATOR_FOLLOWUP_JOB, runOperatorFollowup, type OperatorFollowupData } from './operator-followup.js';
import { inboxHooks, planOnTransition } from './planning.js';
import { doOnce, pruneRunClaims } from './marks.js';
import { REBUILD_FACTS_JOB, rebuildFacts } from '../stats/facts-store.js';

export const PRUNE_JOB = 'prune-job-claims';

export { JobScheduler } from './scheduler.js';
export type { PlannedJob } from './scheduler.js';

export interface Jobs {
  scheduler: JobScheduler;
  context: JobsContext;
  stop(timeoutMs?: number): Promise<void>;
}

export function businessHoursOf(settings: Config['jobs']): BusinessHours {
  if (!settings.businessHours) return ALWAYS_OPEN;
  try {
    return createBusinessHours(settings.businessHours);
  } catch (error) {
    if (error instanceof BusinessHoursError) throw new ConfigError([`BUSINESS_HOURS: ${error.message}`]);
    throw error;
  }
}

/** Builds the scheduler and defines every job on it; nothing runs until start(). */
export function createJobs(options: {
  config: Pick<Config, 'jobs' | 'instanceId' | 'companyName' | 'contacts'>;
  db: Db;
  logger: Logger;
  now?: () => Date;
}): { scheduler: JobScheduler; context: JobsContext } {
  const { config, logger } = options;
  const scheduler = new JobScheduler({
    db: options.db,
    instanceId: config.instanceId,
    logger: logger.child({ component: 'jobs' }),
    leaseTtlMs: config.jobs.leaderLeaseMs,
    processEveryMs: config.jobs.pollIntervalMs,
  });
  const context: JobsContext = {
    settings: config.jobs,
    hours: businessHoursOf(config.jobs),
    planner: scheduler,
    logger: logger.child({ component: 'jobs' }),
    now: options.now ?? (() => new Date()),
    companyName: config.companyName,
    contacts: config.contacts,
  };
  scheduler.define<ReminderData>(REMINDER_JOB, (data) => runReminder(context, data));
  scheduler.define<AutoCloseData>(AUTO_CLOSE_JOB, (data) => runAutoClose(context, data));
  scheduler.define<SlaAlertData>(SLA_ALERT_JOB, (data) => runSlaAlert(context, data));
  scheduler.define<SurveyData>(SURVEY_JOB, (data) => runSurvey(context, data));
  scheduler.define(ARCHIVE_JOB, async () => void (await runArchive(context)), { concurrency: 1 });
  scheduler.define(RETENTION_JOB, async () => void (await runRetention(context)), { concurrency: 1 });
  scheduler.define(PRUNE_JOB, async () => void (await pruneRunClaims(new Date(context.now().getTime() - 7 * 86_400_000))), { concurrency: 1 });
  scheduler.define(REBUILD_FACTS_JOB, async () => void (await rebuildFacts()), { concurrency: 1 });
  scheduler.define<OperatorFollowupData>(OPERATOR_FOLLOWUP_JOB, async (data, job) => {
    await doOnce(`followup:${job.id}`, undefined, context.now(), () => runOperatorFollowup(context, data));
  });
  return { scheduler, context };
}

/**
 * Starts timed work: plans jobs on status changes and customer messages, and contends for the leader lease
 * that runs them. `inbox.use` receives the survey-reply and new-chat hooks.
 */
export async function startJobs(options: {
  config: Pick<Config, 'jobs' | 'instanceId' | 'companyName' | 'contacts'>;
  db: Db;
  logger: Logger;
  inbox?: { use(hooks: InboxHooks): () => void };
  now?: () => Date;
  /** Made earlier with createJobs, e.g. so the console's command services can hold the scheduler. */
  created?: { scheduler: JobScheduler; context: JobsContext };
}): Promise<Jobs> {
  const { scheduler, context } = options.created ?? createJobs(options);
  await scheduler.every('1 day', ARCHIVE_JOB);
  await scheduler.every('1 day', PRUNE_JOB);
  // Does nothing while RETENTION_AFTER is off.
  await scheduler.every('1 day', RETENTION_JOB);
  await scheduler.every('1 day', REBUILD_FACTS_JOB);
  await scheduler.start();
  const stopPlanning = onTransition(planOnTransition(context));
  const stopHooks = options.inbox?.use(inboxHooks(context));
  return {
    scheduler,
    context,
    async stop(timeoutMs) {
      stopHooks?.();
      stopPlanning();
      await scheduler.stop(timeoutMs);
    },
  };
}
