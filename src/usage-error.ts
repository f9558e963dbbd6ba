/** Wrong or missing arguments: the operator sees the message and the command's usage line. */
export class UsageError extends Error {
  override name = 'UsageError';
}
