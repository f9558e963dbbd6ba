import { CustomerModel, type ConversationDoc } from '../db/models/index.js';
import { DEFAULT_LANGUAGE, renderTemplate } from '../templates.js';
import type { Contacts } from '../config.js';
import { sendSystemMessage } from '../conversations/system-message.js';
import { conversationLogger } from '../logger.js';
import type { JobsContext } from './context.js';
import { loadConversation, stillAwaitingSince } from './episode.js';
import { doOnce } from './marks.js';
import { planAutoClose } from './auto-close.js';

export const REMINDER_JOB = 'conversation-reminder';

export interface ReminderData {
  conversationId: string;
  /** When the awaiting period began (ISO): the reminder belongs to that period only. */
  since: string;
  /** Which reminder of the period, from 1 to REMIND_MAX. */
  n: number;
}

/** The chat entered awaiting: remind the customer after REMIND_AFTER (or plan auto-close when no reminders are wanted). */
export async function planReminder(ctx: JobsContext, conversation: ConversationDoc, since: Date): Promise<void> {
  const conversationId = String(conversation._id);
  if (ctx.settings.remindMax === 0) return planAutoClose(ctx, conversationId, since, since);
  await ctx.planner.schedule(new Date(since.getTime() + ctx.settings.remindAfterMs), REMINDER_JOB, { conversationId, since: since.toISOString(), n: 1 });
}

/**
 * The other ways to reach the team (phone, e-mail, other channels) configured for the customer's language, or
 * for everyone, worded in that language; empty when none is configured.
 */
async function otherWaysToReachUs(contacts: JobsContext['contacts'], language: string | undefined): Promise<string> {
  // The customer's language's own contacts (English for a customer whose language is unknown), else everyone's.
  const own = contacts.byLanguage[language?.toLowerCase().split(/[-_]/)[0] ?? DEFAULT_LANGUAGE] ?? {};
  const pick = (field: keyof Contacts) => own[field] ?? contacts[field];
  const vars = { phone: pick('phone'), email: pick('email'), otherChannels: pick('otherChannels') };
  if (!vars.phone && !vars.email && !vars.otherChannels) return '';
  return renderTemplate('messages', 'reminder-alternatives', language, vars, { dropEmptyLines: true });
}

/** Sends the polite reminder if the chat still waits for this customer, then plans the next step. */
export async function runReminder(ctx: JobsContext, data: ReminderData): Promise<void> {
  const conversation = await loadConversation(data.conversationId);
  const since = new Date(data.since);
  if (!conversation || !(await stillAwaitingSince(conversation, since))) return;
  const now = ctx.now();

  // An operator who wrote again while awaiting restarts the customer's grace period.
  if (data.n === 1 && conversation.lastOperatorMessageAt && conversation.lastOperatorMessageAt > since) {
    const due = new Date(conversation.lastOperatorMessageAt.getTime() + ctx.settings.remindAfterMs);
    if (due.getTime() > now.getTime()) {
      await ctx.planner.schedule(due, REMINDER_JOB, { ...data });
      return;
    }
  }
  const sent = await doOnce(`reminder:${data.conversationId}:${since.getTime()}:${data.n}`, conversation._id, now, async () => {
    const customer = await CustomerModel.findById(conversation.customer);
    const language = customer?.language ?? undefined;
    const text = await renderTemplate('messages', 'reminder', language, { customerName: customer?.name ?? '', companyName: ctx.companyName });
    const alternatives = await otherWaysToReachUs(ctx.contacts, language);
    await sendSystemMessage(conversation, alternatives ? `${text}\n\n${alternatives}` : text);
  });
  if (!sent) return;
  conversationLogger(ctx.logger, conversation).info({ n: data.n }, 'reminder sent to the customer');

  if (data.n < ctx.settings.remindMax) {
    await ctx.planner.schedule(new Date(now.getTime() + ctx.settings.remindAfterMs), REMINDER_JOB, { ...data, n: data.n + 1 });
  } else {
    await planAutoClose(ctx, data.conversationId, since, now);
  }
}
