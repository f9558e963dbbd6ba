import DataLoader from 'dataloader';

/** What a loader needs of a mongoose model. */
export interface Findable {
  find(filter: { _id: { $in: readonly string[] } }, projection?: Record<string, 0 | 1>): { lean(): PromiseLike<unknown> };
}

/**
 * Reads documents by _id, many at a time: the look-ups made in one tick of the event loop (the inbox handling
 * a hundred customers at once) go out as one `{ _id: { $in: [...] } }` query, which MongoDB and the embedded
 * FerretDB both answer from the _id index. Nothing is cached: every load reads the database.
 */
export function createIdLoader<Lean extends { _id: unknown }>(model: Findable, projection?: Record<string, 0 | 1>): (id: unknown) => Promise<Lean | null> {
  const loader = new DataLoader<string, Lean | null>(
    async (ids) => {
      const docs = (await model.find({ _id: { $in: ids } }, projection).lean()) as Lean[];
      const byId = new Map(docs.map((doc) => [String(doc._id), doc]));
      return ids.map((id) => byId.get(id) ?? null);
    },
    { cache: false, maxBatchSize: 500 },
  );
  return (id) => loader.load(String(id));
}
