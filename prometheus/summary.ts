import { type Collector, markMetricWithState } from "./collector.ts";
import type { Desc } from "./desc.ts";
import { descFromOpts, type Opts } from "./opts.ts";
import type { Metric, NumberMap } from "./value.ts";
import { collectorNameOf, SummarySample } from "./_sample.ts";
import { batchSize, TargetedStream } from "./_quantile.ts";
import type { Observer } from "./timer.ts";
import { MetricVec } from "./vec.ts";

/** How long observations count towards the quantiles by default, as Go's `DefMaxAge`: 10 minutes, in ms. */
export const defMaxAge = 10 * 60 * 1000;
/** Streams the window is made of by default, as Go's `DefAgeBuckets`. */
export const defAgeBuckets = 5;
/** Observations buffered before they are merged, as Go's `DefBufCap`. */
export const defBufCap: number = batchSize;

/**
 * Options of {@linkcode newSummary} and {@linkcode newSummaryVec}, as Go's
 * `prometheus.SummaryOpts`.
 */
export interface SummaryOpts extends Opts {
  /**
   * Quantiles to expose, each with its allowed rank error: `{ 0.5: 0.05, 0.9: 0.01,
   * 0.99: 0.001 }` means the 0.9 quantile reported lies between the true 0.89 and 0.91
   * quantiles. None by default (count and sum only), as in Go.
   */
  readonly objectives?: NumberMap;
  /** How long, in milliseconds, an observation counts towards the quantiles. Default {@linkcode defMaxAge}. */
  readonly maxAge?: number;
  /** Streams the `maxAge` window is kept in: it slides in steps of `maxAge / ageBuckets`. Default {@linkcode defAgeBuckets}. */
  readonly ageBuckets?: number;
  /** Observations buffered before they are merged into the streams. Default {@linkcode defBufCap}. */
  readonly bufCap?: number;
}

/** What the children of one SummaryVec share. */
interface Config {
  readonly targets: readonly (readonly [number, number])[];
  readonly maxAge: number;
  readonly ageBuckets: number;
  readonly bufCap: number;
}

function config(desc: Desc, opts: SummaryOpts): Config {
  const where = `summary ${JSON.stringify(desc.fqName)}`;
  const o = opts.objectives ?? {};
  const entries: [number, number][] = o instanceof Map
    ? [...o.entries()]
    : Object.entries(o).map(([k, v]) => [Number(k), v]);
  for (const [q, e] of entries) {
    if (!(q >= 0 && q <= 1)) throw new Error(`${where}: objective quantile ${q} is outside [0, 1]`);
    if (!(e >= 0 && e <= 1)) throw new Error(`${where}: objective ${q} has rank error ${e}, outside [0, 1]`);
  }
  entries.sort((a, b) => a[0] - b[0]);
  const maxAge = opts.maxAge ?? defMaxAge;
  if (!(maxAge >= 0)) throw new Error(`${where}: illegal max age maxAge=${maxAge}`);
  const ageBuckets = opts.ageBuckets ?? defAgeBuckets;
  if (!(Number.isInteger(ageBuckets) && ageBuckets >= 0)) {
    throw new Error(`${where}: illegal age buckets ageBuckets=${ageBuckets}`);
  }
  const bufCap = opts.bufCap ?? defBufCap;
  if (!(Number.isInteger(bufCap) && bufCap >= 0)) throw new Error(`${where}: illegal buffer capacity bufCap=${bufCap}`);
  // Zero means the default, as Go's zero values do.
  return {
    targets: entries,
    maxAge: maxAge || defMaxAge,
    ageBuckets: ageBuckets || defAgeBuckets,
    bufCap: bufCap || defBufCap,
  };
}

const noLabels: readonly string[] = Object.freeze([]);

/**
 * The clock the window slides by, read at every observation as Go reads time.Now():
 * whichever of `performance.now()` (monotonic, as Go's clock) and `Date.now()` is
 * cheaper here, measured once. On Bun 1.4 the first costs ~14 ns and the second ~43;
 * on Deno 2.9 ~140 ns and ~80 (MEASURED.md's kind of machine). Only differences of its
 * readings are used, so its origin does not matter. Measured at the first summary, not
 * at import: an exporter without summaries (and `--version`) never pays for it.
 */
let measuredClock: (() => number) | undefined;
function windowClock(): () => number {
  if (measuredClock) return measuredClock;
  const cost = (f: () => number) => {
    const t0 = performance.now();
    for (let i = 0; i < 2000; i++) f();
    return performance.now() - t0;
  };
  const perf = () => performance.now();
  cost(perf), cost(Date.now); // warm up
  return measuredClock = cost(perf) <= cost(Date.now) ? perf : Date.now;
}

/**
 * Observations summarised as count, sum and quantiles over a sliding window, as Go's
 * `prometheus.Summary`. Each objective's quantile is within its rank error of the
 * true one over the last `maxAge` (give or take one of `ageBuckets` steps); count and
 * sum cover every observation since it was created (or reset).
 *
 * Prefer a Histogram where the quantile should be aggregated across instances:
 * summaries' quantiles cannot be.
 *
 * @example
 * ```ts
 * const rpc = newSummary({ name: "rpc_duration_seconds", help: "RPC latency.", objectives: { 0.5: 0.05, 0.99: 0.001 } });
 * rpc.observe(0.31);
 * ```
 */
export class Summary implements Collector, Observer {
  /** The summary's descriptor. */
  readonly desc: Desc;
  /** Its variable label values (empty unless it is a child of a {@linkcode SummaryVec}). */
  readonly labelValues: readonly string[];
  readonly #targets: readonly (readonly [number, number])[];
  readonly #now: () => number;
  #count = 0;
  #sum = 0;
  #created: number;
  /** Observations since the last flush into the streams. */
  readonly #hot: Float64Array;
  #hotLen = 0;
  #hotExp: number;
  /** The window: `ageBuckets` streams, each started `streamDuration` after the one before. */
  readonly #streams: TargetedStream[];
  readonly #streamDuration: number;
  #head = 0;
  #headExp: number;

  /**
   * A summary of `desc` with these options and label values; use
   * {@linkcode newSummary} or a SummaryVec. `now` (milliseconds) is the clock the
   * window slides by: a test may pass its own.
   */
  constructor(
    desc: Desc,
    opts: SummaryOpts,
    labelValues: readonly string[] = noLabels,
    now: () => number = windowClock(),
  ) {
    const c = config(desc, opts);
    this.desc = desc;
    this.labelValues = labelValues;
    this.#targets = c.targets;
    this.#now = now;
    const t = now();
    this.#created = now === measuredClock ? Date.now() : t;
    this.#hot = new Float64Array(c.targets.length ? c.bufCap : 0);
    this.#streams = c.targets.length ? Array.from({ length: c.ageBuckets }, () => new TargetedStream(c.targets)) : [];
    this.#streamDuration = c.maxAge / c.ageBuckets;
    this.#headExp = this.#hotExp = t + this.#streamDuration;
  }

  /** Adds one observation. */
  observe(v: number): void {
    this.#count++;
    this.#sum += v;
    if (this.#streams.length === 0) return;
    const now = this.#now();
    // Observations older than the current step go into the streams before they slide.
    if (now > this.#hotExp) this.#flush(now);
    this.#hot[this.#hotLen++] = v;
    if (this.#hotLen === this.#hot.length) this.#flush(now);
  }

  /** Forgets every observation and restarts the created time. */
  reset(): void {
    this.#count = 0;
    this.#sum = 0;
    this.#hotLen = 0;
    for (const s of this.#streams) s.reset();
    const t = this.#now();
    this.#created = this.#now === measuredClock ? Date.now() : t;
    this.#head = 0;
    this.#headExp = this.#hotExp = t + this.#streamDuration;
  }

  /** The collector's name: the metric name, with its constant labels if any. */
  get name(): string {
    return collectorNameOf(this.desc);
  }

  /** Sends the summary's Desc. */
  describe(ch: (desc: Desc) => void): void {
    ch(this.desc);
  }

  /** Sends count, sum, the quantiles over the window (NaN when it is empty) and the created time. */
  collect(ch: (metric: Metric) => void): void {
    const targets = this.#targets;
    const quantiles: (readonly [number, number])[] = new Array(targets.length);
    if (targets.length) {
      this.#flush(this.#now());
      const head = this.#streams[this.#head];
      const empty = head.count() === 0;
      for (let i = 0; i < targets.length; i++) {
        const q = targets[i][0];
        quantiles[i] = [q, empty ? NaN : head.query(q)];
      }
    }
    ch(new SummarySample(this.desc, this.labelValues, this.#count, this.#sum, quantiles, this.#created));
  }

  /** Merges the buffered observations into every stream, then slides the window to `now`. */
  #flush(now: number): void {
    const n = this.#hotLen;
    if (n > 0) {
      const batch = this.#hot.subarray(0, n).sort();
      for (const s of this.#streams) s.insertMany(batch, n, true);
      this.#hotLen = 0;
    }
    const step = this.#streamDuration;
    while (this.#hotExp < now) this.#hotExp += step;
    // Each step the oldest stream, the head, is emptied and the next one takes over.
    while (now >= this.#headExp) {
      this.#streams[this.#head].reset();
      this.#head = (this.#head + 1) % this.#streams.length;
      this.#headExp += step;
    }
  }
}

/**
 * Returns a summary, as Go's `prometheus.NewSummary`. Throws when the name or a
 * label is invalid, `quantile` is used as a label, or an option is out of range.
 *
 * @example
 * ```ts
 * const rpc = newSummary({
 *   name: "rpc_duration_seconds",
 *   help: "RPC latency.",
 *   objectives: { 0.5: 0.05, 0.9: 0.01, 0.99: 0.001 },
 * });
 * mustRegister(rpc);
 * rpc.observe(0.31);
 * ```
 */
export function newSummary(opts: SummaryOpts): Summary {
  return new Summary(descFromOpts(opts, [], { label: "quantile", kind: "summaries" }), opts);
}

/** Summaries partitioned by label values, as Go's `prometheus.SummaryVec`. */
export type SummaryVec = MetricVec<Summary>;

/**
 * Returns a SummaryVec, as Go's `prometheus.NewSummaryVec`; every child has the same
 * objectives and window.
 *
 * @example
 * ```ts
 * const rpc = newSummaryVec({ name: "rpc_duration_seconds", help: "RPC latency.", objectives: { 0.99: 0.001 } }, ["service"]);
 * rpc.withLabelValues("users").observe(0.12);
 * ```
 */
export function newSummaryVec(opts: SummaryOpts, labelNames: readonly string[]): SummaryVec {
  const desc = descFromOpts(opts, labelNames, { label: "quantile", kind: "summaries" });
  config(desc, opts); // refuse bad options now, not at the first child
  return new MetricVec(desc, (lvs) => new Summary(desc, opts, lvs));
}

// Always gathered, without a --collector flag or scrape_collector series (collector.ts).
markMetricWithState(Summary.prototype);
