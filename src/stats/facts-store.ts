import type { mongo, Types } from 'mongoose';
import { ConversationModel, ErasedFactModel, StatsBucketModel } from '../db/models/index.js';
import { onTransition } from '../conversations/lifecycle.js';
import type { InboxHooks } from '../inbox.js';
import type { Logger } from '../logger.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import { forEachLimited } from '../util/for-each-limited.js';
import { bucketId, bucketStart, startOfBucket } from './buckets.js';
import { decodeFacts, encodeFacts } from './fact-codec.js';
import { FACTS_PROJECTION, type ConversationFacts } from './fetch.js';

/** The Agenda job that rebuilds every bucket from the conversations once a day (src/jobs/index.ts). */
export const REBUILD_FACTS_JOB = 'rebuild-stats-facts';

const WRITE_PARALLELISM = 8;

// One recording per conversation at a time (so a later read is never overwritten by an earlier one), and one
// read-modify-write per bucket at a time, in this process. Two processes writing the same bucket at once can
// still lose one of the updates (FerretDB updates are not atomic, and this is a read-modify-write anyway):
// the conversation's next event rewrites its fact, and the daily rebuild repairs the rest.
const perConversation = new KeyedMutex();
const perBucket = new KeyedMutex();
const rebuilds = new KeyedMutex();
/** Conversations recorded while a rebuild of this process runs: recorded again after it wrote its buckets. */
let recordedDuringRebuild: Set<string> | undefined;

/** The stored fields a report reads, without the ones the conversation lacks (no nulls in the buckets). */
export function toFact(doc: mongo.Document): ConversationFacts {
  const fact: Record<string, unknown> = { _id: doc._id, channel: doc.channel, status: doc.status, createdAt: doc.createdAt };
  for (const field of ['number', 'customer', 'owner', 'closedAt', 'closeReason', 'firstResponseSeconds', 'resolutionSeconds'] as const) {
    if (doc[field] !== undefined && doc[field] !== null) fact[field] = doc[field];
  }
  if (doc.counts) fact.counts = { in: doc.counts.in ?? 0, out: doc.counts.out ?? 0 };
  if (typeof doc.rating?.score === 'number') fact.rating = { score: doc.rating.score };
  return fact as unknown as ConversationFacts;
}

/** Reads a bucket by _id, lets `change` edit its facts, writes it back by _id (or deletes it when empty). */
function modifyBucket(id: string, change: (facts: ConversationFacts[]) => ConversationFacts[]): Promise<void> {
  return perBucket.run(id, async () => {
    const bucket = await StatsBucketModel.findById(id).lean();
    await writeBucket(id, change(decodeFacts(bucket?.facts)));
  });
}

const bucketCollection = () => StatsBucketModel.collection as unknown as mongo.Collection<{ _id: string; facts: string }>;

async function writeBucket(id: string, facts: ConversationFacts[]): Promise<void> {
  if (facts.length === 0) await bucketCollection().deleteOne({ _id: id });
  else await bucketCollection().updateOne({ _id: id }, { $set: { facts: encodeFacts(facts) } }, { upsert: true });
}

const otherThan = (id: string) => (fact: ConversationFacts) => String(fact._id) !== id;

/** Puts a conversation's fact into its created bucket and, when closed, its closed bucket; a closed bucket it left loses it. */
async function placeFact(id: string, fact: ConversationFacts): Promise<void> {
  const before: { fact?: ConversationFacts } = {};
  await modifyBucket(bucketId('created', fact.createdAt), (facts) => {
    before.fact = facts.find((f) => String(f._id) === id);
    return [...facts.filter(otherThan(id)), fact];
  });
  const closedBucket = fact.closedAt ? bucketId('closed', fact.closedAt) : undefined;
  if (closedBucket) await modifyBucket(closedBucket, (facts) => [...facts.filter(otherThan(id)), fact]);
  const previousClosed = before.fact?.closedAt ? bucketId('closed', before.fact.closedAt) : undefined;
  if (previousClosed && previousClosed !== closedBucket) await modifyBucket(previousClosed, (facts) => facts.filter(otherThan(id)));
}

async function erasedFactOf(id: string): Promise<ConversationFacts | undefined> {
  const erased = await ErasedFactModel.findById(id).lean();
  return erased ? decodeFacts(erased.fact)[0] : undefined;
}

/**
 * Re-reads the conversation by _id (or the anonymous fact of an erased one) and places its current facts into
 * its buckets.
 */
export function recordFacts(conversationId: Types.ObjectId | string): Promise<void> {
  const id = String(conversationId);
  recordedDuringRebuild?.add(id);
  return perConversation.run(id, async () => {
    const doc = await ConversationModel.findById(id, FACTS_PROJECTION).lean();
    const fact = doc ? toFact(doc) : await erasedFactOf(id);
    if (fact) await placeFact(id, fact);
  });
}

/**
 * The conversation is about to be erased: its facts stay in the buckets without its customer and number, marked
 * erased, and are kept aside (ErasedFact) for the daily rebuild, which reads only the conversations that exist.
 */
export function keepFactsAnonymously(conversationId: Types.ObjectId): Promise<void> {
  const id = String(conversationId);
  recordedDuringRebuild?.add(id);
  return perConversation.run(id, async () => {
    const doc = await ConversationModel.findById(id, FACTS_PROJECTION).lean();
    if (!doc) return;
    const { customer: _customer, number: _number, ...rest } = toFact(doc);
    const fact: ConversationFacts = { ...rest, erased: true };
    await ErasedFactModel.updateOne({ _id: conversationId }, { $set: { createdAt: fact.createdAt, ...(fact.closedAt ? { closedAt: fact.closedAt } : {}), fact: encodeFacts([fact]) } }, { upsert: true });
    await placeFact(id, fact);
  });
}

/**
 * Recomputes the buckets from the conversations collection in one scan: all of them, or those of the blocks
 * in [from, to) (a conversation created before `from` and closed in the range lands in its closed bucket only).
 * Buckets of the range that no conversation fills any more are deleted. Erased conversations count with the
 * anonymous facts kept for them.
 */
export function rebuildFacts(range: { from?: Date; to?: Date } = {}): Promise<{ conversations: number; buckets: number; removed: number }> {
  return rebuilds.run('rebuild', async () => {
    const recorded = new Set<string>();
    recordedDuringRebuild = recorded;
    try {
      const from = range.from ? startOfBucket(range.from).getTime() : -Infinity;
      const to = range.to ? range.to.getTime() : Infinity;
      const inRange = (at: Date) => at.getTime() >= from && at.getTime() < to;
      const window = { ...(range.from ? { $gte: new Date(from) } : {}), ...(range.to ? { $lt: range.to } : {}) };
      const query = range.from || range.to ? { $or: [{ createdAt: window }, { closedAt: window }] } : {};

      const buckets = new Map<string, ConversationFacts[]>();
      const add = (id: string, fact: ConversationFacts) => {
        const facts = buckets.get(id);
        if (facts) facts.push(fact);
        else buckets.set(id, [fact]);
      };
      let conversations = 0;
      const cursor = ConversationModel.collection.find(query, { projection: FACTS_PROJECTION, batchSize: 5000 });
      const place = (fact: ConversationFacts) => {
        conversations += 1;
        if (inRange(fact.createdAt)) add(bucketId('created', fact.createdAt), fact);
        if (fact.closedAt && inRange(fact.closedAt)) add(bucketId('closed', fact.closedAt), fact);
      };
      for await (const doc of cursor) place(toFact(doc));
      for await (const erased of ErasedFactModel.find(query).lean().cursor()) decodeFacts(erased.fact).forEach(place);

      const existing = await StatsBucketModel.collection.find({}, { projection: { _id: 1 } }).toArray();
      const stale = existing.map((b) => String(b._id)).filter((id) => !buckets.has(id) && inRange(bucketStart(id)));
      // New buckets go in with insertMany (cheap); FerretDB/SQLite finds an existing one to update by scanning.
      const existingIds = new Set(existing.map((b) => String(b._id)));
      const fresh = [...buckets].filter(([id]) => !existingIds.has(id)).map(([id, facts]) => ({ _id: id, facts: encodeFacts(facts) }));
      for (let i = 0; i < fresh.length; i += 100) await bucketCollection().insertMany(fresh.slice(i, i + 100), { ordered: false });
      const changed = [...buckets].filter(([id]) => existingIds.has(id));
      await forEachLimited(changed, WRITE_PARALLELISM, ([id, facts]) => perBucket.run(id, () => writeBucket(id, facts)));
      await forEachLimited(stale, WRITE_PARALLELISM, (id) => perBucket.run(id, () => writeBucket(id, [])));
      recordedDuringRebuild = undefined;
      // What changed while we scanned may be missing from what we just wrote: record those again.
      for (const id of recorded) await recordFacts(id);
      return { conversations, buckets: buckets.size, removed: stale.length };
    } finally {
      if (recordedDuringRebuild === recorded) recordedDuringRebuild = undefined;
    }
  });
}

let failureLogger: Logger | undefined;

/**
 * `recordFacts` for callers that must not fail because of it (an operator reply, a survey rating): a failure is
 * logged (with the logger given to recordFactsOnTransitions) and left to the next event or the daily rebuild.
 */
export async function refreshFacts(conversationId: Types.ObjectId): Promise<void> {
  try {
    await recordFacts(conversationId);
  } catch (error) {
    failureLogger?.warn({ err: error, conversation: String(conversationId) }, 'could not record the conversation facts for /stats; the daily rebuild repairs them');
  }
}

/**
 * Keeps the buckets current: every status change (open/take/reply/forward/close/reopen/archive) and every
 * conversation the inbox opens re-records the conversation's facts. A failure is logged, never thrown:
 * the facts are derived data and the next event or the daily rebuild repairs them, while a throwing
 * listener would stop the ones after it (job planning).
 */
export function recordFactsOnTransitions(options: { logger?: Logger; inbox?: { use(hooks: InboxHooks): () => void } } = {}): () => void {
  if (options.logger) failureLogger = options.logger;
  const stopTransitions = onTransition(async (conversation) => refreshFacts(conversation._id));
  const stopInbox = options.inbox?.use({
    afterStored: async (result) => {
      if (result.opened) await refreshFacts(result.conversation._id);
    },
  });
  return () => {
    stopTransitions();
    stopInbox?.();
  };
}
