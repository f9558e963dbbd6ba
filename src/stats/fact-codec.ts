import { Types } from 'mongoose';
import type { ConversationFacts } from './fetch.js';

// A bucket's facts travel as one JSON string: the database then stores and returns one value per bucket
// instead of ~15 per conversation, which is what made reading buckets slow on FerretDB (it decodes every
// value in Go). Dates go as ISO strings and ObjectIds as hex (their toJSON); decoding restores both.

const ID_FIELDS = new Set(['_id', 'customer', 'owner']);
const DATE_FIELDS = new Set(['createdAt', 'closedAt']);

export function encodeFacts(facts: readonly ConversationFacts[]): string {
  return JSON.stringify(facts);
}

export function decodeFacts(packed: string | undefined | null): ConversationFacts[] {
  if (!packed) return [];
  return JSON.parse(packed, (key, value: unknown) => {
    if (typeof value !== 'string') return value;
    if (ID_FIELDS.has(key)) return new Types.ObjectId(value);
    if (DATE_FIELDS.has(key)) return new Date(value);
    return value;
  }) as ConversationFacts[];
}
