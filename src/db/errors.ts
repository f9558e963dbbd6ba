/**
 * MongoDB's (and FerretDB's) duplicate-key error: a unique index said no. FerretDB does not say which
 * index, so callers that have several unique indexes find out by reading, not from the error.
 */
export function isDuplicateKeyError(error: unknown): boolean {
  return (error as { code?: number } | undefined)?.code === 11000;
}

/** The database could not be reached (down, restarting, network): worth trying again later, unlike a refused write. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name ?? '';
  return /^Mongo(ose)?(Network|NetworkTimeout|ServerSelection|NotConnected|PoolCleared|TopologyClosed)Error$/.test(name);
}

/** The driver's per-document WriteError is not an Error; give callers one, keeping its code (11000...). */
export function writeErrorToError(result: unknown): Error {
  if (result instanceof Error) return result;
  const writeError = result as { code?: number; errmsg?: string };
  return Object.assign(new Error(writeError.errmsg ?? 'write refused'), { code: writeError.code });
}
