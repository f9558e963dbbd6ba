import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { BusinessHours } from './business-hours.js';

/** Job data: flat, with keys free of '.' and '$' (FerretDB stores no such keys). */
export type JobData = Record<string, string | number | boolean>;

/** Planning side of the scheduler, which job logic uses to plan follow-ups and cancel them. */
export interface Planner {
  schedule(when: Date, name: string, data: JobData): Promise<string>;
  /** Cancels the planned jobs of these names whose data contains all of `data`. */
  cancel(names: string[], data: JobData): Promise<number>;
  /** Cancels every planned job, whatever its name, whose data contains all of `data`. */
  cancelAll(data: JobData): Promise<number>;
}

/** What every job needs: settings, working hours, the planner and an injectable clock for tests. */
export interface JobsContext {
  settings: Config['jobs'];
  hours: BusinessHours;
  planner: Planner;
  logger: Logger;
  now: () => Date;
  companyName: string;
  /** Other ways to reach the team, offered in the reminder. */
  contacts: Config['contacts'];
}
