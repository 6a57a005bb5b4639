/**
 * The default histogram buckets, as Go's `prometheus.DefBuckets`: tailored to
 * network service response times in seconds, from 5 ms to 10 s.
 */
export const defBuckets: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

/**
 * `count` buckets `width` apart, the lowest with upper bound `start`, as Go's
 * `prometheus.LinearBuckets`. The `+Inf` bucket is implied, not included. Throws when
 * `count` is less than 1.
 *
 * @example
 * ```ts
 * linearBuckets(20, 5, 5); // [20, 25, 30, 35, 40]
 * ```
 */
export function linearBuckets(start: number, width: number, count: number): number[] {
  if (!(count >= 1)) throw new RangeError(`linearBuckets needs a positive count, got ${count}`);
  // Added up bucket by bucket, as Go does, so that the bounds are Go's to the last bit.
  const out: number[] = [];
  for (let i = 0, b = start; i < count; i++, b += width) out.push(b);
  return out;
}

/**
 * `count` buckets, the lowest with upper bound `start`, each `factor` times the one
 * before, as Go's `prometheus.ExponentialBuckets`. Throws when `count` is less than 1,
 * `start` not positive or `factor` not greater than 1.
 *
 * @example
 * ```ts
 * exponentialBuckets(100, 1.2, 3); // [100, 120, 144]
 * ```
 */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  if (!(count >= 1)) throw new RangeError(`exponentialBuckets needs a positive count, got ${count}`);
  if (!(start > 0)) throw new RangeError(`exponentialBuckets needs a positive start value, got ${start}`);
  if (!(factor > 1)) throw new RangeError(`exponentialBuckets needs a factor greater than 1, got ${factor}`);
  const out: number[] = [];
  let b = start;
  for (let i = 0; i < count; i++, b *= factor) out.push(b);
  return out;
}

/**
 * `count` exponential buckets from `min` to `max`, as Go's
 * `prometheus.ExponentialBucketsRange`. Throws when `count` is less than 1 or `min`
 * not positive.
 *
 * @example
 * ```ts
 * exponentialBucketsRange(1, 100, 3); // [1, 10, 100] (to rounding)
 * ```
 */
export function exponentialBucketsRange(min: number, max: number, count: number): number[] {
  if (!(count >= 1)) throw new RangeError(`exponentialBucketsRange needs a positive count, got ${count}`);
  if (!(min > 0)) throw new RangeError(`exponentialBucketsRange needs a min greater than 0, got ${min}`);
  // max = min * factor^(count-1), solved for factor.
  const factor = count === 1 ? 1 : Math.pow(max / min, 1 / (count - 1));
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(min * Math.pow(factor, i));
  return out;
}
