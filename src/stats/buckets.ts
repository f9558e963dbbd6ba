/**
 * Names of the /stats buckets (src/db/models/stats-bucket.ts): `<kind>:<YYYY-MM-DDTHH>`, UTC, where HH starts
 * a block of BUCKET_HOURS hours. Six hours keeps a bucket small to rewrite on every event (~50 KB at 1,000
 * chats a day) and a 30-day report at 240 look-ups.
 */

export type BucketKind = 'created' | 'closed';

export const BUCKET_HOURS = 6;
const BUCKET_MS = BUCKET_HOURS * 3_600_000;

export function startOfBucket(at: Date): Date {
  return new Date(Math.floor(at.getTime() / BUCKET_MS) * BUCKET_MS);
}

const label = (start: Date) => start.toISOString().slice(0, 13);

/** The bucket holding a conversation created (or closed) at `at`. */
export function bucketId(kind: BucketKind, at: Date): string {
  return `${kind}:${label(startOfBucket(at))}`;
}

/** The labels of the buckets a half-open range [from, to) touches, oldest first. */
export function bucketLabels(from: Date, to: Date): string[] {
  const labels: string[] = [];
  for (let t = startOfBucket(from).getTime(); t < to.getTime(); t += BUCKET_MS) labels.push(label(new Date(t)));
  return labels;
}

/** The start of the block a bucket id names. */
export function bucketStart(id: string): Date {
  return new Date(`${id.slice(id.indexOf(':') + 1)}:00:00.000Z`);
}
