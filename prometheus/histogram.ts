import { type Collector, markMetricWithState } from "./collector.ts";
import type { Desc, Labels } from "./desc.ts";
import { descFromOpts, type Opts } from "./opts.ts";
import type { Exemplar, Metric } from "./value.ts";
import { defBuckets } from "./buckets.ts";
import { collectorNameOf, HistogramSample, newExemplar } from "./_sample.ts";
import type { ExemplarObserver } from "./timer.ts";
import { MetricVec } from "./vec.ts";
import { NativeHistogramState } from "./native_histogram.ts";

/**
 * Options of {@linkcode newHistogram} and {@linkcode newHistogramVec}, as Go's
 * `prometheus.HistogramOpts`. Durations are in milliseconds.
 */
export interface HistogramOpts extends Opts {
  /**
   * Upper bounds of the buckets, strictly increasing; a final `+Inf` is implied (and
   * dropped if given). Default {@linkcode defBuckets}, unless native buckets are
   * asked for.
   */
  readonly buckets?: readonly number[];
  /**
   * Above 1, the histogram also keeps native (sparse, exponential) buckets, each at
   * most this factor wider than the one before (Go's `NativeHistogramBucketFactor`).
   * Native buckets are exposed in the protobuf format only (Prometheus asks for it
   * when its native histograms are on); text and OpenMetrics show the classic ones.
   */
  readonly nativeHistogramBucketFactor?: number;
  /** Observations at most this far from zero go to the zero bucket (Go's `NativeHistogramZeroThreshold`). */
  readonly nativeHistogramZeroThreshold?: number;
  /** The most native buckets before the resolution is lowered (Go's `NativeHistogramMaxBucketNumber`). */
  readonly nativeHistogramMaxBucketNumber?: number;
  /** Milliseconds before native buckets may be reset to stay under the maximum (Go's `NativeHistogramMinResetDuration`). */
  readonly nativeHistogramMinResetDuration?: number;
  /** How far the zero bucket may widen to stay under the maximum (Go's `NativeHistogramMaxZeroThreshold`). */
  readonly nativeHistogramMaxZeroThreshold?: number;
  /** Exemplars kept for native buckets (Go's `NativeHistogramMaxExemplars`). */
  readonly nativeHistogramMaxExemplars?: number;
  /** Milliseconds a native-bucket exemplar is kept (Go's `NativeHistogramExemplarTTL`). */
  readonly nativeHistogramExemplarTTL?: number;
}

/** Buckets above this many are searched by bisection, below it one by one (Go measured the same crossover). */
const linearSearchMax = 35;

/** Checks and normalises the bucket bounds of `opts`, shared by every child of a vec. */
function upperBounds(desc: Desc, opts: HistogramOpts): Float64Array {
  const native = (opts.nativeHistogramBucketFactor ?? 0) > 1;
  let b = opts.buckets ?? [];
  if (b.length === 0 && !native) b = defBuckets;
  const where = `histogram ${JSON.stringify(desc.fqName)}`;
  for (let i = 0; i < b.length; i++) {
    if (typeof b[i] !== "number" || Number.isNaN(b[i])) {
      throw new Error(`${where}: bucket ${i} is not a number: ${b[i]}`);
    }
    if (i > 0 && b[i - 1] >= b[i]) {
      throw new Error(`${where}: histogram buckets must be in increasing order: ${b[i - 1]} >= ${b[i]}`);
    }
  }
  // The +Inf bucket is implied: drop it when given.
  const n = b.length > 0 && b[b.length - 1] === Infinity ? b.length - 1 : b.length;
  return Float64Array.from(b.slice(0, n));
}

const noLabels: readonly string[] = Object.freeze([]);

/**
 * Counts observations in configurable buckets, as Go's `prometheus.Histogram`: request
 * durations, response sizes. It is a Collector; it exposes each bucket's cumulative
 * count, the sum and the count, and remembers when it was created (or reset).
 *
 * @example
 * ```ts
 * const latency = newHistogram({ name: "request_duration_seconds", help: "Latency." });
 * latency.observe(0.042);
 * latency.observeWithExemplar(1.7, { trace_id: "4bf92f3577b34da6" });
 * ```
 */
export class Histogram implements Collector, ExemplarObserver {
  /** The histogram's descriptor. */
  readonly desc: Desc;
  /** Its variable label values (empty unless it is a child of a {@linkcode HistogramVec}). */
  readonly labelValues: readonly string[];
  readonly #upper: Float64Array;
  /** Observations per bucket, not cumulative; the last is the `+Inf` bucket's. */
  readonly #counts: Float64Array;
  #count = 0;
  #sum = 0;
  #created: number = Date.now();
  /** Per bucket, `+Inf`'s last; made with the first exemplar. */
  #exemplars: (Exemplar | undefined)[] | undefined;
  readonly #native: NativeHistogramState | undefined;
  /** Last collect's sample and the count it was made at: resent while nothing changed. */
  #sample: HistogramSample | undefined;
  #sampleCount = -1;

  /**
   * A histogram of `desc` with bucket bounds `upper` (strictly increasing, no `+Inf`)
   * and these label values; use {@linkcode newHistogram} or a HistogramVec.
   */
  constructor(
    desc: Desc,
    upper: Float64Array,
    labelValues: readonly string[] = noLabels,
    opts: Partial<HistogramOpts> = {},
  ) {
    this.desc = desc;
    this.labelValues = labelValues;
    this.#upper = upper;
    this.#counts = new Float64Array(upper.length + 1);
    const factor = opts.nativeHistogramBucketFactor ?? 0;
    this.#native = factor > 1
      ? new NativeHistogramState({
        nativeHistogramBucketFactor: factor,
        nativeHistogramZeroThreshold: opts.nativeHistogramZeroThreshold,
        nativeHistogramMaxBucketNumber: opts.nativeHistogramMaxBucketNumber,
        nativeHistogramMinResetDurationMs: opts.nativeHistogramMinResetDuration,
        nativeHistogramMaxZeroThreshold: opts.nativeHistogramMaxZeroThreshold,
        nativeHistogramMaxExemplars: opts.nativeHistogramMaxExemplars,
        nativeHistogramExemplarTtlMs: opts.nativeHistogramExemplarTTL,
        // The native state reset itself (its bucket limit): the classic side follows.
        onReset: () => this.#resetClassic(),
      })
      : undefined;
  }

  /** The bucket `v` falls in: the first whose upper bound is at least `v`; NaN goes to `+Inf`. */
  #bucket(v: number): number {
    const ub = this.#upper, n = ub.length;
    if (n < linearSearchMax) {
      let i = 0;
      while (i < n && !(v <= ub[i])) i++;
      return i;
    }
    let lo = 0, hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (v <= ub[mid]) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Adds one observation. */
  observe(v: number): void {
    // Native buckets take every observation but NaN, as Go's, and first: reaching
    // their bucket limit may reset the whole histogram, this observation excepted.
    if (this.#native !== undefined && v === v) this.#native.observe(v);
    this.#counts[this.#bucket(v)]++;
    this.#count++;
    this.#sum += v;
  }

  /**
   * Adds one observation and keeps it as the exemplar of its bucket, with `labels`
   * and the current time, as Go's `ObserveWithExemplar`. Throws, observing nothing,
   * when the labels are invalid or longer than 128 characters in all.
   */
  observeWithExemplar(v: number, labels: Labels): void {
    const e = newExemplar(`histogram ${JSON.stringify(this.desc.fqName)}`, v, labels);
    if (this.#native !== undefined && v === v) this.#native.observeWithExemplar(v, labels);
    this.#counts[this.#bucket(v)]++;
    this.#count++;
    this.#sum += v;
    (this.#exemplars ??= new Array(this.#counts.length).fill(undefined))[this.#bucket(v)] = e;
    this.#sample = undefined;
  }

  /** Empties every bucket, forgets the exemplars and restarts the created time. */
  reset(): void {
    this.#native?.reset();
    this.#resetClassic();
  }

  #resetClassic(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#sum = 0;
    this.#exemplars = undefined;
    this.#created = Date.now();
    this.#sample = undefined;
  }

  /** The collector's name: the metric name, with its constant labels if any. */
  get name(): string {
    return collectorNameOf(this.desc);
  }

  /** Sends the histogram's Desc. */
  describe(ch: (desc: Desc) => void): void {
    ch(this.desc);
  }

  /** Sends the cumulative buckets, sum, count, created time and exemplars. */
  collect(ch: (metric: Metric) => void): void {
    // An idle series costs no allocation: its last sample is still right.
    if (this.#sample === undefined || this.#sampleCount !== this.#count) {
      const ub = this.#upper, counts = this.#counts;
      const buckets: (readonly [number, number])[] = new Array(ub.length);
      let cum = 0;
      for (let i = 0; i < ub.length; i++) buckets[i] = [ub[i], cum += counts[i]];
      this.#sample = new HistogramSample(
        this.desc,
        this.labelValues,
        this.#count,
        this.#sum,
        buckets,
        this.#created,
        this.#exemplars?.slice(),
        this.#native?.snapshot(),
      );
      this.#sampleCount = this.#count;
    }
    ch(this.#sample);
  }
}

/**
 * Returns a histogram, as Go's `prometheus.NewHistogram`. Throws when the name or a
 * label is invalid, `le` is used as a label, or the buckets are not increasing.
 *
 * @example
 * ```ts
 * const latency = newHistogram({ name: "request_duration_seconds", help: "Request latency.", buckets: defBuckets });
 * mustRegister(latency);
 * latency.observe(0.042);
 * ```
 */
export function newHistogram(opts: HistogramOpts): Histogram {
  const desc = descFromOpts(opts, [], { label: "le", kind: "histograms" });
  return new Histogram(desc, upperBounds(desc, opts), noLabels, opts);
}

/** Histograms partitioned by label values, as Go's `prometheus.HistogramVec`. */
export type HistogramVec = MetricVec<Histogram>;

/**
 * Returns a HistogramVec, as Go's `prometheus.NewHistogramVec`; every child has the
 * same buckets.
 *
 * @example
 * ```ts
 * const latency = newHistogramVec({ name: "http_request_duration_seconds", help: "Latency." }, ["method"]);
 * latency.withLabelValues("GET").observe(0.2);
 * ```
 */
export function newHistogramVec(opts: HistogramOpts, labelNames: readonly string[]): HistogramVec {
  const desc = descFromOpts(opts, labelNames, { label: "le", kind: "histograms" });
  const upper = upperBounds(desc, opts);
  return new MetricVec(desc, (lvs) => new Histogram(desc, upper, lvs, opts));
}

// Always gathered, without a --collector flag or scrape_collector series (collector.ts).
markMetricWithState(Histogram.prototype);
