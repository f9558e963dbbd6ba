import mongoose, { Types } from 'mongoose';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from './support/database.js';
import { createIdLoader } from '../src/db/id-loader.js';
import { ChatKeyModel, CustomerModel } from '../src/db/models/index.js';

useTestDatabase();
const loadChatKey = createIdLoader<{ _id: string; customer: Types.ObjectId }>(ChatKeyModel);
const loadCustomerName = createIdLoader<{ _id: Types.ObjectId; name?: string }>(CustomerModel, { name: 1 });

describe('id loader', () => {
  it('answers look-ups made together with one query, each with its own document or null', async () => {
    const customers = await CustomerModel.create([
      { channel: 'telegram', externalChatId: '1', name: 'Ann' },
      { channel: 'telegram', externalChatId: '2', name: 'Bob' },
    ]);
    let queries = 0;
    mongoose.set('debug', (collection: string, method: string) => {
      if (collection === CustomerModel.collection.name && method === 'find') queries++;
    });
    const found = await Promise.all([loadCustomerName(customers[1]!._id), loadCustomerName(new Types.ObjectId()), loadCustomerName(String(customers[0]!._id))]);
    mongoose.set('debug', false);
    expect(found.map((c) => c?.name ?? null)).toEqual(['Bob', null, 'Ann']);
    expect(queries).toBe(1);
  });

  it('reads the database on every load: a change made between two loads is seen', async () => {
    const customer = await CustomerModel.create({ channel: 'vk', externalChatId: '7' });
    await ChatKeyModel.create({ _id: 'vk:7', customer: customer._id });
    expect((await loadChatKey('vk:7'))?.customer.equals(customer._id)).toBe(true);
    await ChatKeyModel.deleteOne({ _id: 'vk:7' });
    expect(await loadChatKey('vk:7')).toBeNull();
  });
});
