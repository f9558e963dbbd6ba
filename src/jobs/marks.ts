import type { Types } from 'mongoose';
import { JobMarkModel } from '../db/models/index.js';
import { isDuplicateKeyError } from '../db/errors.js';

/** Records that `deed` is done; true for exactly one caller, false when it was done before. */
export async function markOnce(deed: string, conversation: Types.ObjectId | undefined, at: Date): Promise<boolean> {
  try {
    await JobMarkModel.create({ _id: deed, conversation, at });
    return true;
  } catch (error) {
    if (isDuplicateKeyError(error)) return false;
    throw error;
  }
}

export async function isMarked(deed: string): Promise<boolean> {
  return (await JobMarkModel.exists({ _id: deed })) !== null;
}

/** Undoes a mark when the deed itself failed, so a retry may do it. */
export async function unmark(deed: string): Promise<void> {
  await JobMarkModel.deleteOne({ _id: deed });
}

/** Does `deed` once: false when it was done before; a failure undoes the mark so a retry may do it. */
export async function doOnce(deed: string, conversation: Types.ObjectId | undefined, at: Date, work: () => Promise<void>): Promise<boolean> {
  if (!(await markOnce(deed, conversation, at))) return false;
  try {
    await work();
    return true;
  } catch (error) {
    await unmark(deed).catch(() => undefined);
    throw error;
  }
}

/** Forgets run claims (`run:<job id>`) older than `before`: by then their jobs are long gone. */
export async function pruneRunClaims(before: Date): Promise<number> {
  const result = await JobMarkModel.deleteMany({ _id: { $regex: '^run:' }, at: { $lt: before } });
  return result.deletedCount;
}
