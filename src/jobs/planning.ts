import type { ConversationStatus } from '../domain.js';
import type { ConversationDoc } from '../db/models/index.js';
import type { TransitionOptions } from '../conversations/lifecycle.js';
import type { InboxHooks } from '../inbox.js';
import { conversationLogger } from '../logger.js';
import type { JobsContext } from './context.js';
import { REMINDER_JOB, planReminder } from './reminder.js';
import { AUTO_CLOSE_JOB } from './auto-close.js';
import { SLA_ALERT_JOB, planSlaAlerts } from './sla-alert.js';
import { SURVEY_JOB, planSurvey, surveyReplyInterceptor } from './survey.js';
import { notifyIfOutOfHours } from './out-of-hours.js';

/**
 * Plans and cancels jobs as conversations change status (registered with onTransition):
 * awaiting → reminder; leaving awaiting → no reminder or auto-close; the customer starts waiting → SLA alerts;
 * answered or closed → no SLA alerts; closed as solved → survey; reopened → no survey.
 * Jobs re-check the state when they run, so a cancel that fails is harmless; planning errors are logged,
 * never thrown into the operator's action that caused the transition.
 */
export function planOnTransition(ctx: JobsContext) {
  return async (conversation: ConversationDoc, from: ConversationStatus, options: TransitionOptions): Promise<void> => {
    const to = conversation.status as ConversationStatus;
    const conversationId = String(conversation._id);
    const at = options.at ?? conversation.lastActivityAt;
    try {
      if (from === 'awaiting' && to !== 'awaiting') await ctx.planner.cancel([REMINDER_JOB, AUTO_CLOSE_JOB], { conversationId });
      if (to === 'awaiting' || to === 'closed' || to === 'archived') await ctx.planner.cancel([SLA_ALERT_JOB], { conversationId });
      if (from === 'closed') await ctx.planner.cancel([SURVEY_JOB], { conversationId });

      if (to === 'awaiting') await planReminder(ctx, conversation, at);
      if (to === 'closed' && conversation.closeReason === 'solved') await planSurvey(ctx, conversation);
      const customerStartsWaiting = (to === 'new' || to === 'active') && (from === 'awaiting' || from === 'closed') && options.actor.kind === 'customer';
      if (customerStartsWaiting) await planSlaAlerts(ctx, conversation, at);
    } catch (error) {
      conversationLogger(ctx.logger, conversation).error({ err: error, from, to }, 'could not plan jobs for a status change');
    }
  };
}

/** Inbox hooks: survey ratings are consumed; a new chat gets its SLA alerts and, out of hours, the notice. */
export function inboxHooks(ctx: JobsContext): InboxHooks {
  return {
    intercept: surveyReplyInterceptor(ctx),
    afterStored: async (result) => {
      const { conversation } = result;
      try {
        if (result.opened) await planSlaAlerts(ctx, conversation, conversation.createdAt);
        if (result.opened || result.reopened) await notifyIfOutOfHours(ctx, conversation, ctx.now());
      } catch (error) {
        conversationLogger(ctx.logger, conversation).error({ err: error }, 'could not plan jobs for a customer message');
      }
    },
  };
}
