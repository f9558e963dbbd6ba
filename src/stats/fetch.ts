import type { mongo, Types } from 'mongoose';
import { ConversationModel } from '../db/models/index.js';
import type { ChannelKind, CloseReason, ConversationStatus } from '../domain.js';

/** The stored fields a report reads: durations and counts written by the conversation code when events happen. */
export interface ConversationFacts {
  _id: Types.ObjectId;
  number?: number;
  customer?: Types.ObjectId;
  channel: ChannelKind;
  status: ConversationStatus;
  owner?: Types.ObjectId;
  createdAt: Date;
  closedAt?: Date;
  closeReason?: CloseReason;
  firstResponseSeconds?: number;
  resolutionSeconds?: number;
  counts?: { in?: number; out?: number };
  rating?: { score?: number };
}

export interface FactsFilter {
  from: Date;
  to: Date;
  channel?: ChannelKind;
  owner?: Types.ObjectId;
}

const REPORT_PROJECTION = {
  _id: 1,
  channel: 1,
  status: 1,
  owner: 1,
  createdAt: 1,
  closedAt: 1,
  closeReason: 1,
  firstResponseSeconds: 1,
  resolutionSeconds: 1,
  'counts.in': 1,
  'counts.out': 1,
  'rating.score': 1,
};
const EXPORT_PROJECTION = { ...REPORT_PROJECTION, number: 1, customer: 1 };

/**
 * Streams the conversations a period concerns: those opened in it (createdAt index) and those opened
 * earlier but closed in it (closedAt index). Two indexed range queries instead of one $or, which
 * FerretDB cannot serve from an index. Lean projection, raw driver cursor: no mongoose documents.
 */
export async function* conversationFacts(filter: FactsFilter, options: { forExport?: boolean } = {}): AsyncGenerator<ConversationFacts> {
  const projection = options.forExport ? EXPORT_PROJECTION : REPORT_PROJECTION;
  const extra: mongo.Filter<mongo.Document> = {};
  if (filter.channel) extra.channel = filter.channel;
  if (filter.owner) extra.owner = filter.owner;
  const queries: Array<mongo.Filter<mongo.Document>> = [
    { createdAt: { $gte: filter.from, $lt: filter.to }, ...extra },
    { closedAt: { $gte: filter.from, $lt: filter.to }, createdAt: { $lt: filter.from }, ...extra },
  ];
  for (const query of queries) {
    const cursor = ConversationModel.collection.find(query, { projection, batchSize: 5000 });
    for await (const doc of cursor) yield doc as unknown as ConversationFacts;
  }
}
