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
  /** The conversation was erased: this fact is all that is left of it, without its customer or number. */
  erased?: true;
}

export interface FactsFilter {
  from: Date;
  to: Date;
  channel?: ChannelKind;
  owner?: Types.ObjectId;
}

/** Every field of ConversationFacts. */
export const FACTS_PROJECTION = {
  _id: 1,
  number: 1,
  customer: 1,
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

export async function* conversationFacts(filter: FactsFilter): AsyncGenerator<ConversationFacts> {
  const range = { $gte: filter.from, $lt: filter.to };
  const query: mongo.Filter<mongo.Document> = { $or: [{ createdAt: range }, { closedAt: range }] };
  if (filter.channel) query.channel = filter.channel;
  if (filter.owner) query.owner = filter.owner;
  const cursor = ConversationModel.collection.find(query, { projection: FACTS_PROJECTION, batchSize: 5000 });
  for await (const doc of cursor) yield doc as unknown as ConversationFacts;
}
