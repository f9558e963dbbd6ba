import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseUri } from './support/database.js';

// Two gateway copies are two clients of one database. Their updates of one document must not undo each other,
// and an update conditional on what it read must match for exactly one of two copies racing for it: true on
// MongoDB, and on the embedded FerretDB with its atomic-update patch (scripts/ferretdb-patches/atomic_updates.go).
let copies: mongoose.Connection[] = [];
beforeAll(async () => {
  const uri = testDatabaseUri();
  copies = await Promise.all([1, 2].map(() => mongoose.createConnection(uri, { maxPoolSize: 10 }).asPromise()));
});
afterAll(async () => {
  await copies[0]?.db?.dropDatabase();
  await Promise.all(copies.map((c) => c.close()));
});

const conversations = (copy: number) => copies[copy]!.db!.collection<{ _id: string; status?: string; counts?: { in: number }; owner?: string }>('conversations');

describe('updates from two gateway copies', () => {
  it('counts every increment when both copies count messages of one conversation at once', async () => {
    await conversations(0).insertOne({ _id: 'counted', counts: { in: 0 } });
    await Promise.all(Array.from({ length: 200 }, (_, i) => conversations(i % 2).updateOne({ _id: 'counted' }, { $inc: { 'counts.in': 1 } })));
    expect((await conversations(0).findOne({ _id: 'counted' }))?.counts?.in).toBe(200);
  });

  it('lets exactly one of two racing status changes from the same status through', async () => {
    const races = 30;
    await conversations(0).insertMany(Array.from({ length: races }, (_, i) => ({ _id: `race-${i}`, status: 'awaiting' })));
    const outcomes = await Promise.all(
      Array.from({ length: races }, async (_, i) => {
        const [take, close] = await Promise.all([
          conversations(0).updateOne({ _id: `race-${i}`, status: 'awaiting' }, { $set: { status: 'active', owner: 'bob' } }),
          conversations(1).updateOne({ _id: `race-${i}`, status: 'awaiting' }, { $set: { status: 'closed' } }),
        ]);
        return take.matchedCount + close.matchedCount;
      }),
    );
    expect(outcomes).toEqual(Array(races).fill(1));
    const final = await conversations(0).find({ _id: { $in: Array.from({ length: races }, (_, i) => `race-${i}`) } }).toArray();
    // Whichever won, the document is wholly its result: never "closed" with the other's owner.
    for (const doc of final) expect(doc.status === 'active' ? doc.owner === 'bob' : doc.status === 'closed' && doc.owner === undefined).toBe(true);
  });

  it('keeps both copies’ changes to different fields of one document', async () => {
    await conversations(0).insertOne({ _id: 'fields' });
    await Promise.all(Array.from({ length: 50 }, (_, i) => conversations(i % 2).updateOne({ _id: 'fields' }, { $set: { [`f${i}`]: i } })));
    const doc = (await conversations(0).findOne({ _id: 'fields' })) as Record<string, unknown> | null;
    expect(Object.keys(doc ?? {}).filter((k) => k.startsWith('f'))).toHaveLength(50);
  });
});
