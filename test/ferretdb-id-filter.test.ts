import mongoose, { Types } from 'mongoose';
import { beforeEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from './support/database.js';

// scripts/ensure-ferretdb.sh narrows every FerretDB query that names _id values to those rows before the
// whole filter is applied. These are the answers MongoDB gives; the patched FerretDB must give the same.
useTestDatabase();
const collection = () => mongoose.connection.db!.collection<{ _id: Types.ObjectId | string; status: string; n: number }>('idfilterprobe');
const ids = Array.from({ length: 5 }, () => new Types.ObjectId());

describe('FerretDB _id filters (patched)', () => {
  beforeEach(async () => {
    await collection().deleteMany({});
    await collection().insertMany([...ids.map((_id, n) => ({ _id, status: n % 2 ? 'open' : 'closed', n })), { _id: 'text-id', status: 'open', n: 9 }]);
  });

  it('applies the other conditions of a filter that names one _id', async () => {
    expect(await collection().findOne({ _id: ids[1], status: 'open' })).toMatchObject({ n: 1 });
    expect(await collection().findOne({ _id: ids[1], status: 'closed' })).toBeNull();
    expect(await collection().findOne({ _id: 'text-id', n: { $gt: 5 } })).toMatchObject({ status: 'open' });
  });

  it('returns exactly the documents of an _id $in list, skipping unknown ids and mixing id types', async () => {
    const found = await collection().find({ _id: { $in: [ids[0]!, ids[3]!, new Types.ObjectId(), 'text-id'] } }).sort({ n: 1 }).toArray();
    expect(found.map((d) => d.n)).toEqual([0, 3, 9]);
    expect(await collection().countDocuments({ _id: { $in: [ids[0]!, ids[3]!] }, status: 'open' })).toBe(1);
    expect(await collection().countDocuments({ _id: { $in: [] } })).toBe(0);
  });

  it('updates and deletes only what the whole filter matches', async () => {
    expect((await collection().updateOne({ _id: ids[2], status: 'open' }, { $set: { n: 100 } })).modifiedCount).toBe(0);
    expect((await collection().updateOne({ _id: ids[2], status: 'closed' }, { $set: { n: 100 } })).modifiedCount).toBe(1);
    expect((await collection().deleteMany({ _id: { $in: ids }, status: 'closed' })).deletedCount).toBe(3);
    expect((await collection().find().sort({ n: 1 }).toArray()).map((d) => d.n)).toEqual([1, 3, 9]);
  });

  it('still answers filters on other fields and on _id ranges', async () => {
    expect(await collection().countDocuments({ status: 'open' })).toBe(3);
    expect(await collection().countDocuments({ _id: { $gte: ids[2]! } })).toBe(3);
  });
});
