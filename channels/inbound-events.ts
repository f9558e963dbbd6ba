import { z } from 'zod';
import { isDatabaseUnavailable } from '../src/db/errors.js';
import type { RejectionReport } from './webhook-rejections.js';

/**
 * Reads and handles a channel's inbound events one at a time, so that one event the gateway can never handle
 * doesn't make the platform resend the whole batch forever. An event that doesn't fit its schema, or whose
 * handling fails in a way a retry won't fix (a bug, a document the database refuses), is logged, counted and
 * skipped. A database outage is rethrown: the caller must not acknowledge, so the platform sends the event again
 * (a webhook answers 5xx, VK's long poll keeps its ts).
 */
export class InboundEvents {
  constructor(private readonly report: RejectionReport) {}

  /** The event as `schema` reads it, or undefined (logged with the reason and counted) when it doesn't fit. */
  read<Schema extends z.ZodType>(schema: Schema, raw: unknown, what: string): z.output<Schema> | undefined {
    const parsed = schema.safeParse(raw);
    if (parsed.success) return parsed.data;
    this.unreadable(what, describeIssues(parsed.error));
    return undefined;
  }

  unreadable(what: string, reason: string): void {
    // The reason names fields and expected types, never the values: they may be a customer's words.
    this.report.logger.warn({ reason }, `${this.report.channel}: skipped an unreadable ${what}`);
    this.report.rejected?.inc({ channel: this.report.channel, reason: 'unreadable' });
  }

  /** Runs the handling of one readable event; rethrows only what is worth retrying (see `isDatabaseUnavailable`). */
  async handle(what: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      if (isDatabaseUnavailable(error)) throw error;
      this.report.logger.error({ err: error }, `${this.report.channel}: skipped a ${what} whose handling failed`);
      this.report.rejected?.inc({ channel: this.report.channel, reason: 'handler_error' });
    }
  }
}

/** An optional detail of an event: a value of the wrong type is dropped, not the whole event. */
export function lenient<Schema extends z.ZodType>(schema: Schema) {
  return schema.optional().catch(undefined);
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const where = issue.path.length ? issue.path.join('.') : 'the body';
      if (issue.code === 'invalid_type') return `${where}: expected ${issue.expected}`;
      // Our own checks word their message; zod's other messages may quote the value.
      return `${where}: ${issue.code === 'custom' ? issue.message : issue.code}`;
    })
    .join('; ');
}
