import type { Types } from 'mongoose';
import { OutboxItemModel, type OutboxItemDoc } from '../db/models/index.js';
import { isDuplicateKeyError } from '../db/errors.js';

export interface NewOutboxItem {
  route: string;
  action: string;
  /** Items of one stream are delivered one at a time, in the order they were queued. */
  stream: string;
  payload?: Record<string, unknown>;
  conversation?: Types.ObjectId;
  message?: Types.ObjectId;
  notBefore?: Date;
}

type Wakeup = () => void;
const wakeups = new Set<Wakeup>();

/** Lets local workers start on new items at once instead of at their next poll. */
export function onEnqueued(wakeup: Wakeup): () => void {
  wakeups.add(wakeup);
  return () => wakeups.delete(wakeup);
}

/**
 * Queues an item. Its `seq` is the stream's highest + 1, made unique by the (stream, seq) index:
 * two writers racing for the same number get a duplicate-key error and the loser takes the next one.
 */
export async function enqueue(item: NewOutboxItem): Promise<OutboxItemDoc> {
  const now = new Date();
  for (let attempt = 0; attempt < 100; attempt++) {
    const last = await OutboxItemModel.findOne({ stream: item.stream }, { seq: 1 }).sort({ seq: -1 }).lean();
    try {
      const created = await OutboxItemModel.create({
        ...item,
        payload: item.payload ?? {},
        seq: (last?.seq ?? 0) + 1,
        nextAttemptAt: item.notBefore ?? now,
        createdAt: now,
      });
      for (const wakeup of wakeups) wakeup();
      return created;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }
  throw new Error(`outbox stream ${item.stream} is too contended to queue into`);
}
