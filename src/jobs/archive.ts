import { ConversationModel } from '../db/models/index.js';
import { transition } from '../conversations/lifecycle.js';
import { ConcurrentChangeError, IllegalTransitionError } from '../conversations/errors.js';
import type { JobsContext } from './context.js';

export const ARCHIVE_JOB = 'archive-closed-conversations';

/** Moves chats closed longer than ARCHIVE_AFTER to archived; returns how many. Runs daily. */
export async function runArchive(ctx: JobsContext): Promise<number> {
  const cutoff = new Date(ctx.now().getTime() - ctx.settings.archiveAfterMs);
  let archived = 0;
  for (;;) {
    const batch = await ConversationModel.find({ status: 'closed', closedAt: { $lt: cutoff } }).sort({ closedAt: 1 }).limit(200);
    let moved = 0;
    for (const conversation of batch) {
      try {
        await transition(conversation, 'archived', { actor: { kind: 'system' }, reason: 'archived', at: ctx.now() });
        moved += 1;
      } catch (error) {
        // Reopened by the customer a moment ago: it stays in the working set.
        if (error instanceof ConcurrentChangeError || error instanceof IllegalTransitionError) continue;
        throw error;
      }
    }
    archived += moved;
    if (batch.length < 200 || moved === 0) break;
  }
  if (archived > 0) ctx.logger.info({ archived, cutoff }, 'archived old closed chats');
  return archived;
}
