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
/** Every field of ConversationFacts. */
export const EXPORT_PROJECTION = { ...REPORT_PROJECTION, number: 1, customer: 1 };

/**
 * Streams the conversations a period concerns: those opened in it and those closed in it. One `$or` of two
 * indexed ranges: MongoDB serves each branch from its index (createdAt, closedAt); FerretDB 1.x pushes no
 * range filter down and scans the collection, so one query means one scan instead of two.
 * Lean projection, raw driver cursor: no mongoose documents.
 */
export async function* conversationFacts(filter: FactsFilter, options: { forExport?: boolean } = {}): AsyncGenerator<ConversationFacts> {
  const projection = options.forExport ? EXPORT_PROJECTION : REPORT_PROJECTION;
  const range = { $gte: filter.from, $lt: filter.to };
  const query: mongo.Filter<mongo.Document> = { $or: [{ createdAt: range }, { closedAt: range }] };
  if (filter.channel) query.channel = filter.channel;
  if (filter.owner) query.owner = filter.owner;
  const cursor = ConversationModel.collection.find(query, { projection, batchSize: 5000 });
  for await (const doc of cursor) yield doc as unknown as ConversationFacts;
}
