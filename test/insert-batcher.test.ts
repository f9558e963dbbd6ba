import { Schema, model } from 'mongoose';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from './support/database.js';
import { countCommands } from './support/command-count.js';
import { createInsertBatcher } from '../src/db/insert-batcher.js';
import { isDuplicateKeyError } from '../src/db/errors.js';

useTestDatabase();
const Probe = model('InsertBatchProbe', new Schema({ key: { type: String, required: true, unique: true }, size: { type: Number, max: 10 }, blob: String }));
const insertProbe = createInsertBatcher<InstanceType<typeof Probe>>(Probe);

describe('insert batcher', () => {
  beforeAll(async () => {
    await Probe.createIndexes();
  });
  beforeEach(async () => {
    await Probe.deleteMany({});
  });

  it('stores fifty documents queued together with far fewer than fifty commands', async () => {
    const commands = await countCommands(Probe.collection.name, ['insertMany'], () => Promise.all(Array.from({ length: 50 }, (_, i) => insertProbe(new Probe({ key: `k${i}` })))));
    expect(await Probe.countDocuments()).toBe(50);
    expect(commands).toBeLessThanOrEqual(2);
  });

  it('refuses only the duplicate and the invalid document of a batch, storing the others', async () => {
    await insertProbe(new Probe({ key: 'taken' }));
    const results = await Promise.allSettled([
      insertProbe(new Probe({ key: 'a' })),
      insertProbe(new Probe({ key: 'taken' })),
      insertProbe(new Probe({ key: 'b', size: 99 })),
      insertProbe(new Probe({ key: 'c' })),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(isDuplicateKeyError((results[1] as PromiseRejectedResult).reason)).toBe(true);
    expect(String((results[2] as PromiseRejectedResult).reason)).toMatch(/size/);
    expect((await Probe.find().sort({ key: 1 }).lean()).map((p) => p.key)).toEqual(['a', 'c', 'taken']);
  });

  it('refuses only a document too big to send when the whole batch failed for it', async () => {
    // Over the 16 MB document limit: the driver refuses the whole command, not the one document.
    const results = await Promise.allSettled([
      insertProbe(new Probe({ key: 'first' })),
      insertProbe(new Probe({ key: 'huge', blob: 'x'.repeat(17 * 1024 * 1024) })),
      insertProbe(new Probe({ key: 'after' })),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await Probe.find().sort({ key: 1 }).lean()).map((p) => p.key)).toEqual(['after', 'first']);
  });

  it('goes on with the next batch after a batch failed', async () => {
    await expect(Promise.all([insertProbe(new Probe({ key: 'x' })), insertProbe(new Probe({ key: 'x' }))])).rejects.toSatisfy(isDuplicateKeyError);
    await insertProbe(new Probe({ key: 'y' }));
    expect((await Probe.find().sort({ key: 1 }).lean()).map((p) => p.key)).toEqual(['x', 'y']);
  });
});
