// The state of a native (sparse, exponential-bucket) histogram, as client_golang's
// histogram.go keeps it: the schema picked from a bucket factor, the zero bucket,
// the bucket-limit strategy (reset when allowed, else widen the zero bucket, else
// halve the resolution, and reset once the minimum reset duration has passed) and the
// native exemplars. A stateful Histogram owns one of these beside its classic buckets
// and calls it on every observation; the state is single-threaded, so client_golang's
// hot/cold double buffering has no counterpart here.
import { isValidLabelName } from "./_labels.ts";
import { nativeHistogramBounds } from "./_native_bounds.ts";
import type { Labels } from "./desc.ts";
import type { BucketSpan, Exemplar, NativeHistogramData } from "./value.ts";
import { nativeHistogramSchemaMaximum, nativeHistogramSchemaMinimum, spansFromBuckets } from "./value.ts";

/** client_golang's `DefNativeHistogramZeroThreshold`: 2^-128. */
export const defNativeHistogramZeroThreshold = 2.938735877055719e-39;

/** Options of a native histogram, as client_golang's `HistogramOpts` native fields. */
export interface NativeHistogramOpts {
  /**
   * The growth factor from one bucket to the next, > 1; the schema is the largest
   * resolution whose factor is at most this (client_golang's pickSchema): 1.1 gives
   * schema 3 (factor 2^(1/8) ≈ 1.09).
   */
  readonly nativeHistogramBucketFactor: number;
  /**
   * Observations with an absolute value up to this go to the zero bucket. 0 (or
   * absent): {@linkcode defNativeHistogramZeroThreshold}; negative: a zero bucket for
   * exactly 0 only. As client_golang.
   */
  readonly nativeHistogramZeroThreshold?: number;
  /** At most this many buckets (positive and negative together); 0 or absent: no limit. */
  readonly nativeHistogramMaxBucketNumber?: number;
  /**
   * With a bucket limit: the histogram is reset, rather than made coarser, when this
   * long has passed since the last reset; after making it coarser, a reset is
   * scheduled for when it has passed. 0 or absent: never reset.
   */
  readonly nativeHistogramMinResetDurationMs?: number;
  /** With a bucket limit: the zero bucket may be widened up to this threshold first. */
  readonly nativeHistogramMaxZeroThreshold?: number;
  /** Native exemplars kept; 0 or absent: 10; negative: none. */
  readonly nativeHistogramMaxExemplars?: number;
  /** An exemplar older than this is replaced first; 0 or absent: 5 minutes. */
  readonly nativeHistogramExemplarTtlMs?: number;
  /** The clock, in milliseconds since the epoch (tests pass their own); defaults to Date.now. */
  readonly now?: () => number;
  /**
   * Runs `fn` after `ms` (tests pass their own); defaults to an unref'd setTimeout, so
   * that a scheduled reset never keeps a process alive.
   */
  readonly afterFunc?: (ms: number, fn: () => void) => void;
  /**
   * Called whenever the state resets itself (bucket limit with the minimum reset
   * duration passed, or the scheduled reset): the owner resets what it keeps beside
   * it (classic buckets, count, sum). After a reset caused by an observation, that
   * observation is counted again in the fresh state, as client_golang does; so an
   * owner calls {@linkcode NativeHistogramState.observe} before counting the
   * observation in its classic buckets.
   */
  readonly onReset?: () => void;
}

/** Picks the schema for a bucket factor, as client_golang's pickSchema. */
export function pickSchema(bucketFactor: number): number {
  if (!(bucketFactor > 1)) throw new Error(`native histogram bucket factor ${bucketFactor} is <= 1`);
  const floor = Math.floor(Math.log2(Math.log2(bucketFactor)));
  if (floor <= -8) return nativeHistogramSchemaMaximum;
  if (floor >= 4) return nativeHistogramSchemaMinimum;
  return -floor + 0; // + 0: not -0
}

/** See _native_bounds.ts: client_golang's table of bucket bounds within one power of two. */
export { nativeHistogramBounds };

const view = new DataView(new ArrayBuffer(8));

/** Go's math.Frexp for a finite x > 0: [frac in [0.5, 1), exp] with x = frac * 2^exp. */
function frexp(x: number): [number, number] {
  let shift = 0;
  if (x < 2.2250738585072014e-308) { // subnormal: scale into the normal range first
    x *= 2 ** 64;
    shift = 64;
  }
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const exp = ((hi >>> 20) & 0x7ff) - 1022;
  view.setUint32(0, (hi & 0x800fffff) | (1022 << 20));
  return [view.getFloat64(0), exp - shift];
}

/** frac * 2^exp without overflowing or underflowing in between. */
function ldexp(frac: number, exp: number): number {
  if (exp > 1000) return frac * 2 ** 1000 * 2 ** (exp - 1000);
  if (exp < -1000) return frac * 2 ** -1000 * 2 ** (exp + 1000);
  return frac * 2 ** exp;
}

/** The index of the bucket of |v| (finite, > 0) in `schema`, as client_golang's observe. */
export function bucketKey(v: number, schema: number): number {
  const [frac, exp] = frexp(Math.abs(v));
  if (schema > 0) {
    const bounds = nativeHistogramBounds[schema];
    let i = 0; // sort.SearchFloat64s: the first bound >= frac
    let hi = bounds.length;
    while (i < hi) {
      const mid = (i + hi) >>> 1;
      if (bounds[mid] < frac) i = mid + 1;
      else hi = mid;
    }
    return i + (exp - 1) * bounds.length;
  }
  const key = frac === 0.5 ? exp - 1 : exp;
  const offset = (1 << -schema) - 1;
  return (key + offset) >> -schema;
}

/** The upper bound of bucket `key` in `schema`, as client_golang's getLe. */
export function bucketUpperBound(key: number, schema: number): number {
  if (schema < 0) {
    const exp = key * 2 ** -schema;
    return exp === 1024 ? Number.MAX_VALUE : ldexp(1, exp);
  }
  const size = 2 ** schema;
  const fracIdx = ((key % size) + size) % size;
  const frac = nativeHistogramBounds[schema][fracIdx];
  const exp = Math.floor(key / size) + 1;
  return frac === 0.5 && exp === 1025 ? Number.MAX_VALUE : ldexp(frac, exp);
}

/** The most runes an exemplar's labels may have, names and values together. */
const exemplarMaxRunes = 128;

/**
 * The native buckets, zero bucket, count and sum of one histogram, and its native
 * exemplars, as client_golang keeps them. See {@linkcode NativeHistogramOpts}.
 *
 * @example
 * ```ts
 * const state = new NativeHistogramState({ nativeHistogramBucketFactor: 1.1 });
 * state.observe(0.25);
 * state.snapshot(); // { schema: 3, zeroThreshold: 2.938735877055719e-39, zeroCount: 0, positiveSpans: [{ offset: -16, length: 1 }], … }
 * ```
 */
export class NativeHistogramState {
  readonly #initialSchema: number;
  readonly #initialZeroThreshold: number;
  readonly #maxBuckets: number;
  readonly #minResetMs: number;
  readonly #maxZeroThreshold: number;
  readonly #maxExemplars: number;
  readonly #exemplarTtlMs: number;
  readonly #now: () => number;
  readonly #afterFunc: (ms: number, fn: () => void) => void;
  readonly #onReset: (() => void) | undefined;

  #schema: number;
  #zeroThreshold: number;
  #zeroCount = 0;
  #count = 0;
  #sum = 0;
  #positive = new Map<number, number>();
  #negative = new Map<number, number>();
  #exemplars: Exemplar[] = [];
  #lastResetMs: number;
  #resetScheduled = false;

  constructor(opts: NativeHistogramOpts) {
    this.#initialSchema = this.#schema = pickSchema(opts.nativeHistogramBucketFactor);
    const zt = opts.nativeHistogramZeroThreshold ?? 0;
    this.#initialZeroThreshold = this.#zeroThreshold = zt > 0 ? zt : zt === 0 ? defNativeHistogramZeroThreshold : 0;
    this.#maxBuckets = opts.nativeHistogramMaxBucketNumber ?? 0;
    this.#minResetMs = opts.nativeHistogramMinResetDurationMs ?? 0;
    this.#maxZeroThreshold = opts.nativeHistogramMaxZeroThreshold ?? 0;
    const maxEx = opts.nativeHistogramMaxExemplars ?? 0;
    this.#maxExemplars = maxEx === 0 ? 10 : maxEx < 0 ? 0 : maxEx;
    this.#exemplarTtlMs = opts.nativeHistogramExemplarTtlMs || 5 * 60_000;
    this.#now = opts.now ?? Date.now;
    this.#afterFunc = opts.afterFunc ?? ((ms, fn) => {
      const t = setTimeout(fn, ms) as unknown as { unref?: () => void };
      t.unref?.();
    });
    this.#onReset = opts.onReset;
    this.#lastResetMs = this.#now();
  }

  /** Observations since the last reset, NaN included. */
  get count(): number {
    return this.#count;
  }

  /** Their sum. */
  get sum(): number {
    return this.#sum;
  }

  /** When the state was created or last reset: the histogram's created timestamp. */
  get createdTimestampMs(): number {
    return this.#lastResetMs;
  }

  /** Buckets in use, positive and negative. */
  get bucketNumber(): number {
    return this.#positive.size + this.#negative.size;
  }

  /**
   * Counts one observation. A NaN counts in count and sum only; ±Inf goes to the
   * bucket past the largest finite one. Returns true when the observation made the
   * state reset (the bucket limit with the minimum reset duration passed): the state
   * then holds this observation alone, and `onReset` has run.
   */
  observe(v: number): boolean {
    this.#count++;
    this.#sum += v;
    if (v !== v) return false;
    this.#add(v);
    return this.#limitBuckets(v);
  }

  /**
   * {@linkcode observe}, keeping an exemplar with `labels` and the current time among
   * the native exemplars (client_golang's replacement rule: the oldest past the TTL,
   * else one of the two closest in value). Throws when a label name is invalid, a
   * value is not valid UTF-8 or the labels exceed 128 runes.
   */
  observeWithExemplar(v: number, labels: Readonly<Labels>): boolean {
    let runes = 0;
    for (const [name, value] of Object.entries(labels)) {
      if (!isValidLabelName(name)) throw new Error(`exemplar label name ${JSON.stringify(name)} is invalid`);
      if (typeof value !== "string" || !value.isWellFormed()) {
        throw new Error(`exemplar label value ${JSON.stringify(value)} is not valid UTF-8`);
      }
      runes += [...name].length + [...value].length;
    }
    if (runes > exemplarMaxRunes) {
      throw new Error(`exemplar labels have ${runes} runes, exceeding the limit of ${exemplarMaxRunes}`);
    }
    const reset = this.observe(v);
    if (v === v) {
      this.#addExemplar(Object.freeze({ labels: Object.freeze({ ...labels }), value: v, timestampMs: this.#now() }));
    }
    return reset;
  }

  /** The native buckets as the model carries them (spans and absolute counts), with the exemplars. */
  snapshot(): NativeHistogramData {
    const p = spansFromBuckets(this.#positive), n = spansFromBuckets(this.#negative);
    let positiveSpans: BucketSpan[] = p.spans;
    // As client_golang's Write: a histogram with nothing in it still says it is native.
    if (this.#zeroThreshold === 0 && this.#zeroCount === 0 && p.spans.length === 0 && n.spans.length === 0) {
      positiveSpans = [{ offset: 0, length: 0 }];
    }
    return Object.freeze({
      schema: this.#schema,
      zeroThreshold: this.#zeroThreshold,
      zeroCount: this.#zeroCount,
      positiveSpans,
      positiveCounts: p.counts,
      negativeSpans: n.spans,
      negativeCounts: n.counts,
      exemplars: Object.freeze([...this.#exemplars]),
    });
  }

  /** Empties the state: counts, buckets, schema and zero threshold as configured; the created time is now. */
  reset(): void {
    this.#count = 0;
    this.#sum = 0;
    this.#zeroCount = 0;
    this.#schema = this.#initialSchema;
    this.#zeroThreshold = this.#initialZeroThreshold;
    this.#positive = new Map();
    this.#negative = new Map();
    this.#lastResetMs = this.#now();
  }

  #add(v: number): void {
    let key: number, finite = v;
    const inf = v === Infinity || v === -Infinity;
    if (inf) finite = v > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
    key = bucketKey(finite, this.#schema);
    if (inf) key++;
    if (finite > this.#zeroThreshold) this.#positive.set(key, (this.#positive.get(key) ?? 0) + 1);
    else if (finite < -this.#zeroThreshold) this.#negative.set(key, (this.#negative.get(key) ?? 0) + 1);
    else this.#zeroCount++;
  }

  /** client_golang's limitBuckets: reset, widen the zero bucket, or halve the resolution. */
  #limitBuckets(v: number): boolean {
    if (this.#maxBuckets === 0 || this.bucketNumber <= this.#maxBuckets) return false;
    const now = this.#now();
    if (this.#minResetMs > 0 && !this.#resetScheduled && now - this.#lastResetMs >= this.#minResetMs) {
      this.reset();
      this.#onReset?.();
      this.#count = 1;
      this.#sum = v;
      this.#add(v);
      return true;
    }
    if (this.#minResetMs > 0 && !this.#resetScheduled) {
      this.#resetScheduled = true;
      this.#afterFunc(this.#minResetMs - (now - this.#lastResetMs), () => {
        this.#resetScheduled = false;
        this.reset();
        this.#onReset?.();
      });
    }
    if (this.#widenZeroBucket()) return false;
    this.#halveResolution();
    return false;
  }

  #widenZeroBucket(): boolean {
    if (this.#zeroThreshold >= this.#maxZeroThreshold) return false;
    let smallest = Infinity;
    for (const k of this.#positive.keys()) smallest = Math.min(smallest, k);
    for (const k of this.#negative.keys()) smallest = Math.min(smallest, k);
    if (smallest === Infinity) return false;
    const threshold = bucketUpperBound(smallest, this.#schema);
    if (threshold > this.#maxZeroThreshold) return false;
    this.#zeroThreshold = threshold;
    for (const m of [this.#positive, this.#negative]) {
      const c = m.get(smallest);
      if (c !== undefined) {
        this.#zeroCount += c;
        m.delete(smallest);
      }
    }
    return true;
  }

  #halveResolution(): void {
    if (this.#schema === nativeHistogramSchemaMinimum) return;
    this.#schema--;
    for (const name of ["positive", "negative"] as const) {
      const merged = new Map<number, number>();
      for (const [k, c] of name === "positive" ? this.#positive : this.#negative) {
        // Go's integer division truncates toward zero.
        const key = Math.trunc((k > 0 ? k + 1 : k) / 2);
        merged.set(key, (merged.get(key) ?? 0) + c);
      }
      if (name === "positive") this.#positive = merged;
      else this.#negative = merged;
    }
  }

  /** client_golang's nativeExemplars.addExemplar. */
  #addExemplar(e: Exemplar): void {
    const ex = this.#exemplars;
    if (this.#maxExemplars === 0) return;
    if (ex.length < this.#maxExemplars) {
      let i = 0;
      while (i < ex.length && !(e.value < ex[i].value)) i++;
      ex.splice(i, 0, e);
      return;
    }
    if (ex.length === 1) {
      ex[0] = e;
      return;
    }
    let oldest = 0, oldestIdx = -1, minDiff = -1, nIdx = -1, rIdx = -1, cLog = 0, pLog = 0;
    ex.forEach((x, i) => {
      if (oldestIdx === -1 || x.timestampMs! < oldest) {
        oldest = x.timestampMs!;
        oldestIdx = i;
      }
      if (nIdx === -1 && e.value <= x.value) nIdx = i;
      pLog = cLog;
      cLog = Math.log(x.value);
      if (i === 0) return;
      const diff = Math.abs(cLog - pLog);
      if (minDiff === -1 || diff < minDiff) {
        minDiff = diff;
        rIdx = ex[i].timestampMs! < ex[i - 1].timestampMs! ? i : i - 1;
      }
    });
    if (nIdx === -1) nIdx = ex.length;
    if (oldestIdx !== -1 && e.timestampMs! - oldest > this.#exemplarTtlMs) rIdx = oldestIdx;
    else {
      const elog = Math.log(e.value);
      if (nIdx > 0) {
        const diff = Math.abs(elog - Math.log(ex[nIdx - 1].value));
        if (diff < minDiff) {
          minDiff = diff;
          rIdx = nIdx - 1;
        }
      }
      if (nIdx < ex.length && Math.abs(Math.log(ex[nIdx].value) - elog) < minDiff) rIdx = nIdx;
    }
    if (rIdx === nIdx) ex[nIdx] = e;
    else if (rIdx < nIdx) {
      ex.splice(rIdx, 1);
      ex.splice(nIdx - 1, 0, e);
    } else {
      ex.splice(rIdx, 1);
      ex.splice(nIdx, 0, e);
    }
  }
}
