/** Order statistics over plain arrays of seconds. Percentiles use the nearest-rank method (no interpolation). */

/** Median: the middle value, or the mean of the two middle values for an even count. */
export function median(values: ArrayLike<number>): number | undefined {
  const sorted = sortedCopy(values);
  const n = sorted.length;
  if (n === 0) return undefined;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile: the smallest value with at least p% of the values at or below it. */
export function percentile(values: ArrayLike<number>, p: number): number | undefined {
  const sorted = sortedCopy(values);
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export function average(values: ArrayLike<number>): number | undefined {
  if (values.length === 0) return undefined;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

function sortedCopy(values: ArrayLike<number>): Float64Array {
  // Typed-array sort is numeric and much faster than Array#sort with a comparator on 100k values.
  return Float64Array.from(values).sort();
}

/** Median and p90 computed from one sort. */
export function spread(values: number[]): { count: number; median?: number; p90?: number } {
  const sorted = sortedCopy(values);
  const n = sorted.length;
  if (n === 0) return { count: 0 };
  const mid = n >> 1;
  return {
    count: n,
    median: n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2,
    p90: sorted[Math.max(1, Math.ceil(0.9 * n)) - 1]!,
  };
}
