import { createHash } from 'node:crypto';
import { Types } from 'mongoose';

/**
 * An ObjectId computed from a key (96 bits of its SHA-256; collisions are out of reach): the same key always
 * names the same document, so "does it exist?" is a look-up by _id and the unique _id refuses a second copy.
 * Such ids carry no creation time; nothing orders by them.
 */
export function derivedObjectId(key: string): Types.ObjectId {
  return new Types.ObjectId(createHash('sha256').update(key).digest().subarray(0, 12));
}
