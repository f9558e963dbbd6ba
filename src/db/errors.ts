/**
 * MongoDB's (and FerretDB's) duplicate-key error: a unique index said no. FerretDB does not say which
 * index, so callers that have several unique indexes find out by reading, not from the error.
 */
export function isDuplicateKeyError(error: unknown): boolean {
  return (error as { code?: number } | undefined)?.code === 11000;
}
