// client_golang's promauto: constructors that also register what they make, so that a
// metric is one declaration. Imported as a namespace (`promauto` in mod.ts):
// `promauto.newCounter(opts)` registers with the default registry,
// `promauto.with(registry).newCounter(opts)` with another.
import type { Collector } from "./collector.ts";
import * as counter from "./counter.ts";
import type { Counter, CounterVec } from "./counter.ts";
import { defaultRegistry } from "./default_registry.ts";
import * as gauge from "./gauge.ts";
import type { Gauge, GaugeVec } from "./gauge.ts";
import * as histogram from "./histogram.ts";
import type { Histogram, HistogramOpts, HistogramVec } from "./histogram.ts";
import type { CounterOpts, GaugeOpts, UntypedOpts } from "./opts.ts";
import * as summary from "./summary.ts";
import type { Summary, SummaryOpts, SummaryVec } from "./summary.ts";
import type { Registerer } from "./wrap.ts";

/**
 * The constructors of metrics with state, each registering what it makes, as Go's
 * `promauto.Factory`. Registration failures throw (Go panics), naming the metric.
 */
export interface Factory {
  /** Makes and registers a counter. */
  newCounter(opts: CounterOpts): Counter;
  /** Makes and registers a CounterVec. */
  newCounterVec(opts: CounterOpts, labelNames: readonly string[]): CounterVec;
  /** Makes and registers a counter read from a function. */
  newCounterFunc(opts: CounterOpts, fn: () => number): Collector;
  /** Makes and registers a gauge. */
  newGauge(opts: GaugeOpts): Gauge;
  /** Makes and registers a GaugeVec. */
  newGaugeVec(opts: GaugeOpts, labelNames: readonly string[]): GaugeVec;
  /** Makes and registers a gauge read from a function. */
  newGaugeFunc(opts: GaugeOpts, fn: () => number): Collector;
  /** Makes and registers an untyped value read from a function. */
  newUntypedFunc(opts: UntypedOpts, fn: () => number): Collector;
  /** Makes and registers a histogram. */
  newHistogram(opts: HistogramOpts): Histogram;
  /** Makes and registers a HistogramVec. */
  newHistogramVec(opts: HistogramOpts, labelNames: readonly string[]): HistogramVec;
  /** Makes and registers a summary. */
  newSummary(opts: SummaryOpts): Summary;
  /** Makes and registers a SummaryVec. */
  newSummaryVec(opts: SummaryOpts, labelNames: readonly string[]): SummaryVec;
}

/**
 * A Factory registering with `registerer`, as Go's `promauto.With`; null or undefined
 * makes metrics without registering them, as Go's nil.
 *
 * @example
 * ```ts
 * const reg = new Registry();
 * const jobs = promauto.with(reg).newCounter({ name: "jobs_total", help: "Jobs run." });
 * jobs.inc();
 * ```
 */
function withRegisterer(registerer: Registerer | null | undefined): Factory {
  const reg = <C extends Collector>(c: C): C => {
    registerer?.register(c);
    return c;
  };
  return {
    newCounter: (opts) => reg(counter.newCounter(opts)),
    newCounterVec: (opts, labelNames) => reg(counter.newCounterVec(opts, labelNames)),
    newCounterFunc: (opts, fn) => reg(counter.newCounterFunc(opts, fn)),
    newGauge: (opts) => reg(gauge.newGauge(opts)),
    newGaugeVec: (opts, labelNames) => reg(gauge.newGaugeVec(opts, labelNames)),
    newGaugeFunc: (opts, fn) => reg(gauge.newGaugeFunc(opts, fn)),
    newUntypedFunc: (opts, fn) => reg(gauge.newUntypedFunc(opts, fn)),
    newHistogram: (opts) => reg(histogram.newHistogram(opts)),
    newHistogramVec: (opts, labelNames) => reg(histogram.newHistogramVec(opts, labelNames)),
    newSummary: (opts) => reg(summary.newSummary(opts)),
    newSummaryVec: (opts, labelNames) => reg(summary.newSummaryVec(opts, labelNames)),
  };
}
export { withRegisterer as with };

const defaultFactory: Factory = withRegisterer(defaultRegistry);

/**
 * Returns a counter registered with the default registry, as Go's `promauto.NewCounter`.
 *
 * @example
 * ```ts
 * const processed = promauto.newCounter({ name: "processed_ops_total", help: "Processed events." });
 * ```
 */
export function newCounter(opts: CounterOpts): Counter {
  return defaultFactory.newCounter(opts);
}

/**
 * Returns a CounterVec registered with the default registry, as Go's `promauto.NewCounterVec`.
 *
 * @example
 * ```ts
 * const requests = promauto.newCounterVec({ name: "http_requests_total", help: "Requests." }, ["code"]);
 * ```
 */
export function newCounterVec(opts: CounterOpts, labelNames: readonly string[]): CounterVec {
  return defaultFactory.newCounterVec(opts, labelNames);
}

/**
 * Returns a counter read from `fn` registered with the default registry, as Go's `promauto.NewCounterFunc`.
 *
 * @example
 * ```ts
 * promauto.newCounterFunc({ name: "evictions_total", help: "Evictions." }, () => cache.evictions);
 * ```
 */
export function newCounterFunc(opts: CounterOpts, fn: () => number): Collector {
  return defaultFactory.newCounterFunc(opts, fn);
}

/**
 * Returns a gauge registered with the default registry, as Go's `promauto.NewGauge`.
 *
 * @example
 * ```ts
 * const queue = promauto.newGauge({ name: "queue_length", help: "Items waiting." });
 * ```
 */
export function newGauge(opts: GaugeOpts): Gauge {
  return defaultFactory.newGauge(opts);
}

/**
 * Returns a GaugeVec registered with the default registry, as Go's `promauto.NewGaugeVec`.
 *
 * @example
 * ```ts
 * const temps = promauto.newGaugeVec({ name: "temperature_celsius", help: "Temperature." }, ["room"]);
 * ```
 */
export function newGaugeVec(opts: GaugeOpts, labelNames: readonly string[]): GaugeVec {
  return defaultFactory.newGaugeVec(opts, labelNames);
}

/**
 * Returns a gauge read from `fn` registered with the default registry, as Go's `promauto.NewGaugeFunc`.
 *
 * @example
 * ```ts
 * promauto.newGaugeFunc({ name: "tasks", help: "Tasks running." }, () => tasks.size);
 * ```
 */
export function newGaugeFunc(opts: GaugeOpts, fn: () => number): Collector {
  return defaultFactory.newGaugeFunc(opts, fn);
}

/**
 * Returns an untyped value read from `fn` registered with the default registry, as Go's `promauto.NewUntypedFunc`.
 *
 * @example
 * ```ts
 * promauto.newUntypedFunc({ name: "legacy", help: "Legacy value." }, () => read());
 * ```
 */
export function newUntypedFunc(opts: UntypedOpts, fn: () => number): Collector {
  return defaultFactory.newUntypedFunc(opts, fn);
}

/**
 * Returns a histogram registered with the default registry, as Go's `promauto.NewHistogram`.
 *
 * @example
 * ```ts
 * const latency = promauto.newHistogram({ name: "request_duration_seconds", help: "Latency." });
 * ```
 */
export function newHistogram(opts: HistogramOpts): Histogram {
  return defaultFactory.newHistogram(opts);
}

/**
 * Returns a HistogramVec registered with the default registry, as Go's `promauto.NewHistogramVec`.
 *
 * @example
 * ```ts
 * const latency = promauto.newHistogramVec({ name: "request_duration_seconds", help: "Latency." }, ["method"]);
 * ```
 */
export function newHistogramVec(opts: HistogramOpts, labelNames: readonly string[]): HistogramVec {
  return defaultFactory.newHistogramVec(opts, labelNames);
}

/**
 * Returns a summary registered with the default registry, as Go's `promauto.NewSummary`.
 *
 * @example
 * ```ts
 * const rpc = promauto.newSummary({ name: "rpc_seconds", help: "RPC.", objectives: { 0.99: 0.001 } });
 * ```
 */
export function newSummary(opts: SummaryOpts): Summary {
  return defaultFactory.newSummary(opts);
}

/**
 * Returns a SummaryVec registered with the default registry, as Go's `promauto.NewSummaryVec`.
 *
 * @example
 * ```ts
 * const rpc = promauto.newSummaryVec({ name: "rpc_seconds", help: "RPC." }, ["service"]);
 * ```
 */
export function newSummaryVec(opts: SummaryOpts, labelNames: readonly string[]): SummaryVec {
  return defaultFactory.newSummaryVec(opts, labelNames);
}
