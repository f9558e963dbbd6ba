import type { Model, Types, UpdateQuery } from 'mongoose';
import { createGroupCommit, type Waiting } from '../util/group-commit.js';
import { writeErrorToError } from './errors.js';

export interface UpdateById<T> {
  id: Types.ObjectId | string;
  update: UpdateQuery<T>;
}

type BulkWriter = Pick<Model<any>, 'bulkWrite'>;

/**
 * Updates of single documents by _id with group commit (util/group-commit.ts), as one ordered bulkWrite per
 * batch: one update command, which the embedded FerretDB applies with one query and one transaction
 * (scripts/ferretdb-patches/update_by_ids.go). Statements are ordered, so a refused one says exactly which
 * were applied on MongoDB and FerretDB alike. Callers must not have two updates of one document waiting at
 * once (db/serialized-writes.ts sees to that), since the order between them would not be kept.
 */
export function createUpdateBatcher<T>(model: BulkWriter, maxBatch = 200): (update: UpdateById<T>) => Promise<void> {
  return createGroupCommit<UpdateById<T>, void>((batch) => updateBatch(model, batch), maxBatch);
}

async function updateBatch<T>(model: BulkWriter, batch: Waiting<UpdateById<T>, void>[]): Promise<void> {
  try {
    const statements = batch.map(({ item }) => ({ updateOne: { filter: { _id: item.id }, update: item.update as UpdateQuery<unknown> } }));
    await model.bulkWrite(statements, { ordered: true });
    batch.forEach((w) => w.resolve());
  } catch (error) {
    // A statement refused (MongoDB, and the embedded FerretDB): those before it are applied, none after it.
    const refused = (error as { writeErrors?: { index: number }[] }).writeErrors?.[0];
    if (refused) {
      batch.slice(0, refused.index).forEach((w) => w.resolve());
      batch[refused.index]?.reject(writeErrorToError(refused));
      const rest = batch.slice(refused.index + 1);
      return rest.length > 0 ? updateBatch(model, rest) : undefined;
    }
    if (batch.length === 1) return batch[0]!.reject(error);
    // The command failed as a whole (the database unreachable): each update goes alone, so one caller's problem
    // is not everyone's.
    for (const waiting of batch) await updateBatch(model, [waiting]);
  }
}
