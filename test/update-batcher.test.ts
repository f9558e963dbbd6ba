import mongoose, { Schema, Types, model } from 'mongoose';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from './support/database.js';
import { countCommands } from './support/command-count.js';
import { createUpdateBatcher } from '../src/db/update-batcher.js';

useTestDatabase();
const Counter = model('UpdateBatchProbe', new Schema({ n: { type: Number, default: 0 }, label: String, state: String }));
const updateCounter = createUpdateBatcher(Counter);

describe('update batcher', () => {
  let ids: Types.ObjectId[] = [];
  beforeAll(async () => {
    await Counter.init();
  });
  beforeEach(async () => {
    await Counter.deleteMany({});
    ids = (await Counter.insertMany(Array.from({ length: 50 }, (_, i) => ({ label: `c${i}`, state: i % 2 ? 'open' : 'closed' })))).map((d) => d._id);
  });

  it('applies fifty updates of fifty documents queued together with far fewer than fifty commands', async () => {
    const commands = await countCommands(Counter.collection.name, ['bulkWrite', 'updateOne'], () => Promise.all(ids.map((id, i) => updateCounter({ id, update: { $inc: { n: i + 1 }, $set: { label: `updated ${i}` } } }))));
    expect(commands).toBeLessThanOrEqual(2);
    const stored = await Counter.find().sort({ n: 1 }).lean();
    expect(stored.map((d) => d.n)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(stored.every((d, i) => d.label === `updated ${i}`)).toBe(true);
  });

  it('leaves alone a document the batch names that does not exist, changing the others', async () => {
    await Promise.all([updateCounter({ id: ids[0]!, update: { $inc: { n: 1 } } }), updateCounter({ id: new Types.ObjectId(), update: { $inc: { n: 1 } } }), updateCounter({ id: ids[1]!, update: { $inc: { n: 2 } } })]);
    expect(await Counter.countDocuments()).toBe(50);
    expect((await Counter.findById(ids[1]).lean())?.n).toBe(2);
  });

  it('refuses only the update that cannot apply, and applies every other update of its batch once', async () => {
    const results = await Promise.allSettled([
      updateCounter({ id: ids[0]!, update: { $inc: { n: 1 } } }),
      // The first goes alone; these four go together, the third of them refused ($inc of a text: MongoDB and
      // FerretDB both refuse it).
      updateCounter({ id: ids[1]!, update: { $inc: { n: 1 } } }),
      updateCounter({ id: ids[2]!, update: { $inc: { n: 1 } } }),
      updateCounter({ id: ids[3]!, update: { $inc: { label: 1 } } as never }),
      updateCounter({ id: ids[4]!, update: { $inc: { n: 1 } } }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[3] as PromiseRejectedResult).reason)).toMatch(/increment|\$inc/i);
    const byId = new Map((await Counter.find().lean()).map((d) => [String(d._id), d]));
    expect([0, 1, 2, 3, 4].map((i) => byId.get(String(ids[i]))?.n)).toEqual([1, 1, 1, 0, 1]);
    expect(byId.get(String(ids[3]))?.label).toBe('c3');
  });
});

describe('FerretDB update commands by _id (patched: one query and one transaction)', () => {
  const raw = () => mongoose.connection.db!.collection<{ _id: Types.ObjectId | string; n: number; state?: string }>('updatebyidprobe');
  beforeEach(async () => {
    await raw().deleteMany({});
    await raw().insertMany([{ _id: 'a', n: 1, state: 'open' }, { _id: 'b', n: 2, state: 'closed' }, { _id: new Types.ObjectId('64b000000000000000000001'), n: 3, state: 'open' }]);
  });

  it('applies each statement with its whole filter and counts matches and changes as MongoDB does', async () => {
    const result = await raw().bulkWrite(
      [
        { updateOne: { filter: { _id: 'a', state: 'open' }, update: { $inc: { n: 10 } } } },
        { updateOne: { filter: { _id: 'b', state: 'open' }, update: { $inc: { n: 10 } } } },
        { updateOne: { filter: { _id: new Types.ObjectId('64b000000000000000000001') }, update: { $set: { n: 3 } } } },
        { updateOne: { filter: { _id: 'missing' }, update: { $set: { n: 0 } } } },
      ],
      { ordered: false },
    );
    expect(result.matchedCount).toBe(2);
    expect(result.modifiedCount).toBe(1);
    expect((await raw().find().sort({ n: 1 }).toArray()).map((d) => [d._id.toString(), d.n])).toEqual([
      ['b', 2],
      ['64b000000000000000000001', 3],
      ['a', 11],
    ]);
  });

  it('applies two statements of one document in order', async () => {
    await raw().bulkWrite([{ updateOne: { filter: { _id: 'a' }, update: { $set: { n: 5 } } } }, { updateOne: { filter: { _id: 'a', n: 5 }, update: { $inc: { n: 1 } } } }], { ordered: true });
    expect((await raw().findOne({ _id: 'a' }))?.n).toBe(6);
  });

  it('still upserts a statement that asks for it', async () => {
    await raw().bulkWrite([{ updateOne: { filter: { _id: 'a' }, update: { $inc: { n: 1 } } } }, { updateOne: { filter: { _id: 'new' }, update: { $set: { n: 7 } }, upsert: true } }]);
    expect((await raw().find().sort({ n: 1 }).toArray()).map((d) => d.n)).toEqual([2, 2, 3, 7]);
  });
});
