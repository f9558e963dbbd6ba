// Checks that the mongoose and agenda operations the gateway relies on work on the
// configured database (FerretDB or MongoDB). Run: MONGODB_URI=... npm run db:check
import mongoose from 'mongoose';
import { Agenda } from 'agenda';
import { MongoBackend } from '@agendajs/mongo-backend';

const uri = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27099/check';
const results: Array<[string, boolean, string]> = [];
async function check(name: string, fn: () => Promise<unknown>) {
  try { const detail = await fn(); results.push([name, true, JSON.stringify(detail ?? '')]); }
  catch (e) { results.push([name, false, (e as Error).message]); }
}

await mongoose.connect(uri);
const db = mongoose.connection.db!;
await db.dropDatabase();
const col = db.collection('probe');
await check('createIndex unique compound', () => col.createIndex({ a: 1, b: 1 }, { unique: true }));
await check('insert + duplicate key error code 11000', async () => {
  await col.insertOne({ a: 1, b: 1, n: 1 });
  try { await col.insertOne({ a: 1, b: 1 }); return 'NO ERROR'; } catch (e) { return (e as { code: number }).code; }
});
await check('findOneAndUpdate sort+upsert', () => col.findOneAndUpdate({ a: 2 }, { $set: { b: 2 }, $inc: { n: 1 } }, { upsert: true, sort: { n: -1 }, returnDocument: 'after' }));
await check('findOneAndUpdate with projection', () => col.findOneAndUpdate({ a: 1 }, { $set: { c: 1 } }, { projection: { a: 1 } }));
await check('aggregate $match $group $sum', () => col.aggregate([{ $match: {} }, { $group: { _id: '$a', total: { $sum: 1 } } }]).toArray());
await check('aggregate $group $avg', () => col.aggregate([{ $group: { _id: null, avg: { $avg: '$n' } } }]).toArray());
await check('$push $each', () => col.updateOne({ a: 1 }, { $push: { tags: { $each: ['x', 'y'] } } } as never));
await check('distinct', () => col.distinct('a'));
await check('countDocuments', () => col.countDocuments({ a: { $in: [1, 2] } }));
await check('$regex case-insensitive', () => col.find({ tags: { $regex: 'X', $options: 'i' } }).toArray());
await check('bulkWrite', () => col.bulkWrite([{ insertOne: { document: { a: 9, b: 9 } } }]));
await check('TTL index', () => col.createIndex({ at: 1 }, { expireAfterSeconds: 10 }));
await check('partial index', () => col.createIndex({ z: 1 }, { partialFilterExpression: { z: { $exists: true } } }));
await check('transactions', async () => {
  const s = mongoose.connection.getClient().startSession();
  try { await s.withTransaction(async () => { await col.insertOne({ t: 1 }, { session: s }); }); } finally { await s.endSession(); }
});

await check('agenda define/now/run', async () => {
  const agenda = new Agenda({ backend: new MongoBackend({ mongo: db }), processEvery: 200 });
  let ran = 0;
  agenda.define('probe', async () => { ran++; });
  await agenda.start();
  await agenda.now('probe', { x: 1 });
  for (let i = 0; i < 50 && ran === 0; i++) await new Promise((r) => setTimeout(r, 100));
  await agenda.stop();
  if (ran !== 1) throw new Error(`job ran ${ran} times`);
  return 'ran once';
});

for (const [name, ok, detail] of results) console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${detail.slice(0, 120)}`);
await mongoose.disconnect();
