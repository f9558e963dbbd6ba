import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { startEmbeddedDatabase } from '../src/db/embedded.js';
import * as models from '../src/db/models/index.js';
import { ConversationModel } from '../src/db/models/index.js';
import { generateHistory } from './stats.js';

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-prof-'));
const db = await startEmbeddedDatabase({ dataDir, dbName: 'p' });
await mongoose.connect(db.uri);
const allModels = Object.values(models).filter((v): v is mongoose.Model<any> => typeof v === 'function' && 'createIndexes' in v);
await Promise.all(allModels.map((m) => m.createIndexes()));
await generateHistory({ conversations: Number(process.env.N ?? 10000), messagesPerConversation: 2, days: 90, runs: 1 }, console.log);
const from = new Date(Date.now() - 30 * 86400e3), to = new Date();
const coll = ConversationModel.collection;
async function t(label: string, fn: () => Promise<unknown>) { const s = performance.now(); const r = await fn(); console.log(label, Math.round(performance.now() - s), 'ms', Array.isArray(r) ? r.length : r); }
await t('count all', () => coll.countDocuments({}));
await t('find created range, projection', () => coll.find({ createdAt: { $gte: from, $lt: to } }, { projection: { createdAt: 1, channel: 1, firstResponseSeconds: 1 }, batchSize: 5000 }).toArray());
await t('find created range, no projection', () => coll.find({ createdAt: { $gte: from, $lt: to } }, { batchSize: 5000 }).toArray());
await t('find all, no filter', () => coll.find({}, { batchSize: 5000 }).toArray());
await t('find all, projection', () => coll.find({}, { projection: { createdAt: 1, channel: 1 }, batchSize: 5000 }).toArray());
await t('find closed range + created<', () => coll.find({ closedAt: { $gte: from, $lt: to }, createdAt: { $lt: from } }, { batchSize: 5000 }).toArray());
await t('find status eq', () => coll.find({ status: 'new' }).toArray());
await t('explain', async () => JSON.stringify(await coll.find({ createdAt: { $gte: from, $lt: to } }).explain()).slice(0, 1500));
await t('agg group', () => coll.aggregate([{ $match: { createdAt: { $gte: from, $lt: to } } }, { $group: { _id: '$channel', n: { $sum: 1 } } }]).toArray());
await mongoose.disconnect(); await db.stop();
