import { CustomerModel } from '../db/models/index.js';
import { renderTemplate } from '../templates.js';
import { sendSystemMessage } from '../conversations/system-message.js';
import { closeConversation } from '../conversations/operator-actions.js';
import { ConcurrentChangeError } from '../conversations/errors.js';
import { conversationLogger } from '../logger.js';
import type { JobsContext } from './context.js';
import { loadConversation, stillAwaitingSince } from './episode.js';
import { markOnce } from './marks.js';

export const AUTO_CLOSE_JOB = 'conversation-auto-close';

export interface AutoCloseData {
  conversationId: string;
  /** The awaiting period (ISO) this close belongs to. */
  since: string;
}

/** After the last reminder, close the chat when the customer stays silent for AUTO_CLOSE_AFTER. */
export async function planAutoClose(ctx: JobsContext, conversationId: string, since: Date, lastReminderAt: Date): Promise<void> {
  await ctx.planner.schedule(new Date(lastReminderAt.getTime() + ctx.settings.autoCloseAfterMs), AUTO_CLOSE_JOB, { conversationId, since: since.toISOString() });
}

/** Says goodbye with the closing template and closes with reason no_response, if the customer is still silent. */
export async function runAutoClose(ctx: JobsContext, data: AutoCloseData): Promise<void> {
  const conversation = await loadConversation(data.conversationId);
  const since = new Date(data.since);
  if (!conversation || !(await stillAwaitingSince(conversation, since))) return;
  const now = ctx.now();
  if (!(await markOnce(`auto-close:${data.conversationId}:${since.getTime()}`, conversation._id, now))) return;

  const customer = await CustomerModel.findById(conversation.customer);
  const text = await renderTemplate('messages', 'auto-closed', customer?.language ?? undefined, { customerName: customer?.name ?? '', companyName: ctx.companyName });
  await sendSystemMessage(conversation, text);
  try {
    await closeConversation(conversation, undefined, 'no_response', 'customer not responding');
  } catch (error) {
    // The customer wrote between our check and the close: the chat stays open, which is what they want.
    if (error instanceof ConcurrentChangeError) return;
    throw error;
  }
  conversationLogger(ctx.logger, conversation).info('closed: customer not responding');
}
