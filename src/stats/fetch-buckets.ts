import { StatsBucketModel } from '../db/models/index.js';
import { forEachLimited } from '../util/for-each-limited.js';
import { bucketLabels } from './buckets.js';
import { decodeFacts } from './fact-codec.js';
import type { ConversationFacts, FactsFilter } from './fetch.js';

/** Bucket reads in flight at once: enough to keep the database busy, few enough not to flood it. */
const FETCH_PARALLELISM = 8;

/**
 * Yields the facts of the conversations a period concerns: those opened in it and those closed in it, read
 * from the buckets of the stats read model (src/stats/facts-store.ts) by `_id` only: on MongoDB that is the
 * primary index, on FerretDB 1.x the one filter it hands to SQLite (a date range makes it decode the whole
 * conversations collection in Go). A conversation opened and closed in the period sits in both kinds of
 * bucket and is yielded once (the fact of its created bucket, which every recording rewrites). The exact
 * period, channel and operator are filtered here, in memory.
 */
export async function* conversationFactsFromBuckets(filter: FactsFilter): AsyncGenerator<ConversationFacts> {
  const labels = bucketLabels(filter.from, filter.to);
  const ids = [...labels.map((l) => `created:${l}`), ...labels.map((l) => `closed:${l}`)];
  const from = filter.from.getTime();
  const to = filter.to.getTime();
  const owner = filter.owner ? String(filter.owner) : undefined;
  const inPeriod = (at: Date | undefined) => at !== undefined && at !== null && at.getTime() >= from && at.getTime() < to;
  const wanted = (f: ConversationFacts) => (inPeriod(f.createdAt) || inPeriod(f.closedAt)) && (!filter.channel || f.channel === filter.channel) && (!owner || String(f.owner) === owner);

  const created = new Map<string, ConversationFacts>();
  const closed = new Map<string, ConversationFacts>();
  await forEachLimited(ids, FETCH_PARALLELISM, async (id) => {
    const bucket = await StatsBucketModel.findById(id).lean();
    const into = id.startsWith('created:') ? created : closed;
    for (const fact of decodeFacts(bucket?.facts)) if (wanted(fact)) into.set(String(fact._id), fact);
  });
  yield* created.values();
  for (const [id, fact] of closed) if (!created.has(id)) yield fact;
}
