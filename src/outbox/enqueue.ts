import { Types } from 'mongoose';
import { OutboxItemModel, type OutboxItemDoc } from '../db/models/index.js';
import { insertOutboxItem } from '../db/batched-writes.js';
import { isDuplicateKeyError } from '../db/errors.js';

export interface NewOutboxItem {
  /** A fixed _id makes queueing idempotent: while that item exists, queueing it again returns it. */
  _id?: Types.ObjectId;
  route: string;
  action: string;
  /** Items of one stream are delivered one at a time, in the order they were queued. */
  stream: string;
  payload?: Record<string, unknown>;
  conversation?: Types.ObjectId;
  message?: Types.ObjectId;
  notBefore?: Date;
  /** Where items share a budget, lower goes first (see the outbox item's `priority`). Default 1. */
  priority?: number;
  /**
   * The item shows the latest state when it runs (a topic name, a reaction): asking again while it waits changes
   * nothing, and asking while it is being sent makes it run once more. Needs a fixed _id.
   */
  coalesce?: boolean;
}

type Wakeup = () => void;
const wakeups = new Set<Wakeup>();

/** Lets local workers start on new items at once instead of at their next poll. */
export function onEnqueued(wakeup: Wakeup): () => void {
  wakeups.add(wakeup);
  return () => wakeups.delete(wakeup);
}

/** Items became due (queued, or released early): local workers look at once. */
function wakeWorkers(): void {
  for (const wakeup of wakeups) wakeup();
}

let lastSeq = 0;

/**
 * Sequence numbers are microsecond timestamps, made strictly increasing within this process. Items of one
 * stream queued by one process keep their order exactly; across processes they are ordered by clock.
 * (A per-stream counter would be exact everywhere but costs two more writes per item on a single-writer
 * database, which halved the inbound pipeline's throughput on FerretDB.)
 */
function nextSeq(): number {
  lastSeq = Math.max(lastSeq + 1, Date.now() * 1000);
  return lastSeq;
}

/** Queues an item; the (stream, seq) unique index turns a cross-process collision into a retry. */
export async function enqueue(item: NewOutboxItem): Promise<OutboxItemDoc> {
  const now = new Date();
  const _id = item._id ?? new Types.ObjectId();
  for (let attempt = 0; ; attempt++) {
    try {
      const { coalesce, notBefore, ...fields } = item;
      const created = await insertOutboxItem(new OutboxItemModel({ ...fields, _id, payload: item.payload ?? {}, seq: nextSeq(), nextAttemptAt: notBefore ?? now, createdAt: now }));
      if (!item.notBefore) wakeWorkers();
      return created;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      // FerretDB does not say which unique index refused. Our _id: the item is queued already (a fixed _id, or
      // a batch that failed as a whole after storing it). Otherwise another process took this (stream, seq).
      const existing = await OutboxItemModel.findById(_id);
      if (existing && item.coalesce) {
        // A state to show replaces one that could not be shown.
        const retry = existing.status === 'failed' ? { $set: { status: 'pending', attempts: 0, nextAttemptAt: item.notBefore ?? now }, $unset: { lastError: '', settledAt: '' } } : {};
        await OutboxItemModel.updateOne({ _id }, { $inc: { revision: 1 }, ...retry });
      }
      if (existing) return existing;
      if (attempt >= 10) throw error;
    }
  }
}
