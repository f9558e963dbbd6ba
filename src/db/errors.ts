/**
 * MongoDB's (and FerretDB's) duplicate-key error: a unique index said no. FerretDB does not say which
 * index, so callers that have several unique indexes find out by reading, not from the error.
 */
export function isDuplicateKeyError(error: unknown): boolean {
  return (error as { code?: number } | undefined)?.code === 11000;
}

/** Server error codes of a database that is failing over, shutting down or not yet ready: the same write works later. */
const TRANSIENT_SERVER_CODES = new Set([6, 7, 89, 91, 134, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

/**
 * The database could not be reached or is in a transient state (down, restarting, failing over, network):
 * worth trying again later, unlike a refused write, which would fail the same way every time.
 */
const SOCKET_GONE_CODES = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED']);

export function isDatabaseUnavailable(error: unknown): boolean {
  const candidate = error as { name?: string; message?: string; code?: unknown; hasErrorLabel?: (label: string) => boolean; errorResponse?: unknown; cause?: unknown } | undefined;
  const name = candidate?.name ?? '';
  // A bulk write that lost its connection throws MongoBulkWriteError with the network error inside.
  for (const inner of [candidate?.errorResponse, candidate?.cause]) if (inner && inner !== error && isDatabaseUnavailable(inner)) return true;
  if (/^Mongo(ose)?(Network|NetworkTimeout|ServerSelection|NotConnected|PoolCleared|PoolClosed|WaitQueueTimeout|TopologyClosed|ServerClosed)Error$/.test(name) || name === 'PoolClearedOnNetworkError') return true;
  // The driver lets a socket's own error through when the server went away while a command was being written.
  if (typeof candidate?.code === 'string' && SOCKET_GONE_CODES.has(candidate.code)) return true;
  if (candidate?.hasErrorLabel?.('RetryableWriteError') || candidate?.hasErrorLabel?.('TransientTransactionError')) return true;
  if (typeof candidate?.code === 'number' && name.startsWith('Mongo') && TRANSIENT_SERVER_CODES.has(candidate.code)) return true;
  // Mongoose queues operations while it has no connection and gives up with this error.
  return name === 'MongooseError' && /buffering timed out/.test(candidate?.message ?? '');
}

/** The driver's per-document WriteError is not an Error; give callers one, keeping its code (11000...). */
export function writeErrorToError(result: unknown): Error {
  if (result instanceof Error) return result;
  const writeError = result as { code?: number; errmsg?: string };
  return Object.assign(new Error(writeError.errmsg ?? 'write refused'), { code: writeError.code });
}
