import { CustomerModel, type ConversationDoc } from '../db/models/index.js';
import { renderTemplate } from '../templates.js';
import { sendSystemMessage } from '../conversations/system-message.js';
import type { JobsContext } from './context.js';
import { markOnce } from './marks.js';

/**
 * A customer who opens (or reopens) a chat outside working hours is told when we are back, once per
 * conversation. `at` is when they wrote.
 */
export async function notifyIfOutOfHours(ctx: JobsContext, conversation: ConversationDoc, at: Date): Promise<boolean> {
  if (ctx.hours.isOpen(at)) return false;
  if (!(await markOnce(`out-of-hours:${conversation._id}`, conversation._id, at))) return false;
  const customer = await CustomerModel.findById(conversation.customer);
  const opensAt = ctx.hours.nextOpening(at);
  const zone = ctx.settings.businessHours?.timezone ?? 'UTC';
  const language = customer?.language ?? undefined;
  const when = new Intl.DateTimeFormat(language ?? 'en', { weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit', timeZone: zone, timeZoneName: 'short' }).format(opensAt);
  const text = await renderTemplate('messages', 'out-of-hours', language, { customerName: customer?.name ?? '', companyName: ctx.companyName, opensAt: when });
  await sendSystemMessage(conversation, text);
  return true;
}
