import type { Types } from 'mongoose';
import { ConversationModel, type ConversationDoc } from '../db/models/index.js';
import { eraseConversations } from '../privacy/erase.js';
import type { JobsContext } from './context.js';

export const RETENTION_JOB = 'erase-expired-conversations';
const BATCH = 200;

/**
 * Erases archived chats whose last activity is older than RETENTION_AFTER, the way /forget does (a customer with
 * no chat left loses the profile too); returns how many. Runs daily when RETENTION_AFTER is set.
 */
export async function runRetention(ctx: JobsContext): Promise<number> {
  const keepMs = ctx.settings.retentionAfterMs;
  if (keepMs === null) return 0;
  const cutoff = new Date(ctx.now().getTime() - keepMs);
  let erased = 0;
  for (;;) {
    const batch = await ConversationModel.find({ status: 'archived', lastActivityAt: { $lt: cutoff } }).limit(BATCH);
    const byCustomer = new Map<string, { customer: Types.ObjectId; conversations: ConversationDoc[] }>();
    for (const conversation of batch) {
      const entry = byCustomer.get(String(conversation.customer)) ?? { customer: conversation.customer, conversations: [] };
      entry.conversations.push(conversation);
      byCustomer.set(String(conversation.customer), entry);
    }
    for (const { customer, conversations } of byCustomer.values()) erased += (await eraseConversations(customer, conversations, { by: { kind: 'retention' }, plannedJobs: ctx.planner })).conversations;
    if (batch.length < BATCH) break;
  }
  if (erased > 0) ctx.logger.info({ erased, cutoff }, 'erased archived chats past RETENTION_AFTER');
  return erased;
}
