import { CustomerModel, OperatorModel, type ConversationDoc } from '../db/models/index.js';
import { requestConsole } from '../console/actions.js';
import { escapeHtml } from '../util/html.js';
import { conversationLogger } from '../logger.js';
import type { JobsContext } from './context.js';
import { loadConversation, stillWaitingForOperatorSince } from './episode.js';
import { operatorText } from '../i18n/operator-texts.js';
import { markOnce } from './marks.js';

export const SLA_ALERT_JOB = 'conversation-sla-alert';

export interface SlaAlertData {
  conversationId: string;
  /** When the customer started waiting for an answer (ISO). */
  since: string;
  /** 1: the owner or on-duty operators; 2: the louder one to supervisors. */
  level: number;
}

/**
 * The customer started waiting (new chat, reopened, or wrote while awaiting): alert after FIRST_RESPONSE_SLA
 * and escalate after ESCALATE_AFTER, both counted in working time only.
 */
export async function planSlaAlerts(ctx: JobsContext, conversation: ConversationDoc, since: Date): Promise<void> {
  const conversationId = String(conversation._id);
  const data = { conversationId, since: since.toISOString() };
  await ctx.planner.schedule(ctx.hours.addWorkingTime(since, ctx.settings.firstResponseSlaMs), SLA_ALERT_JOB, { ...data, level: 1 });
  await ctx.planner.schedule(ctx.hours.addWorkingTime(since, ctx.settings.escalateAfterMs), SLA_ALERT_JOB, { ...data, level: 2 });
}

/** Raises the alert in the General topic if the customer still waits for the answer they waited for at `since`. */
export async function runSlaAlert(ctx: JobsContext, data: SlaAlertData): Promise<void> {
  const conversation = await loadConversation(data.conversationId);
  const since = new Date(data.since);
  if (!conversation || !(await stillWaitingForOperatorSince(conversation, since))) return;
  const now = ctx.now();
  if (!(await markOnce(`sla:${data.conversationId}:${since.getTime()}:${data.level}`, conversation._id, now))) return;

  const customer = await CustomerModel.findById(conversation.customer).lean();
  const who = escapeHtml(customer?.name ?? customer?.username ?? operatorText('jobs.customer'));
  const waited = formatWait(now.getTime() - since.getTime());
  if (data.level >= 2) {
    await requestConsole({
      action: 'notice',
      html: true,
      text: operatorText('jobs.slaEscalation', { number: conversation.number, waited, channel: conversation.channel, name: who }),
      mention: 'supervisors',
      alert: true,
    });
  } else {
    const owner = conversation.owner ? await OperatorModel.findById(conversation.owner).lean() : null;
    // The General topic has no conversation for the console to find the owner by, so the owner is named here.
    const ownerMention = owner ? `\n${operatorMention(owner)}` : '';
    await requestConsole({
      action: 'notice',
      html: true,
      text: operatorText('jobs.slaAlert', { number: conversation.number, waited, channel: conversation.channel, name: who, mention: ownerMention }),
      mention: owner ? undefined : 'onDuty',
      alert: true,
    });
  }
  conversationLogger(ctx.logger, conversation).warn({ level: data.level, waitedMs: now.getTime() - since.getTime() }, 'response time alert');
}

export function operatorMention(operator: { telegramUserId: number; name: string; username?: string | null }): string {
  return `<a href="tg://user?id=${operator.telegramUserId}">${escapeHtml(operator.username ? `@${operator.username}` : operator.name)}</a>`;
}

/** "7 min", "2 h 5 min", "3 d 4 h": wall-clock time the customer has waited. */
export function formatWait(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 60) return operatorText('jobs.waited.minutes', { minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? operatorText('jobs.waited.hoursMinutes', { hours, minutes: minutes % 60 }) : operatorText('jobs.waited.hours', { hours });
  return operatorText('jobs.waited.daysHours', { days: Math.floor(hours / 24), hours: hours % 24 });
}
