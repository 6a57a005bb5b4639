/**
 * The metrics model, mirroring client_golang's `prometheus` package in camelCase:
 * descriptors, const metrics, collectors, registries and the exposition encoders.
 *
 * @example
 * ```ts
 * import { CounterValue, mustNewConstMetric, mustRegister, newDesc } from "./prometheus/mod.ts";
 * const fooDesc = newDesc("foo_metric", "Shows whether a foo has occurred in our cluster");
 * mustRegister({
 *   describe: (ch) => ch(fooDesc),
 *   collect: (ch) => ch(mustNewConstMetric(fooDesc, CounterValue, 1)),
 * });
 * ```
 * @module
 */
export { buildFQName, Desc, type DescOpts, type Labels, newDesc } from "./desc.ts";
export { defaultEscaping, escapeName, type EscapingScheme, isLegacyName } from "./escaping.ts";
export {
  type BucketCounts,
  type BucketSpan,
  CounterValue,
  type Exemplar,
  type ExemplarInput,
  exemplarMaxRunes,
  GaugeValue,
  type HistogramMetric,
  type InvalidMetric,
  type Metric,
  type MetricBase,
  type MetricType,
  mustNewConstHistogram,
  mustNewConstHistogramWithCreatedTimestamp,
  mustNewConstMetric,
  mustNewConstMetricWithCreatedTimestamp,
  mustNewConstNativeHistogram,
  mustNewConstSummary,
  mustNewConstSummaryWithCreatedTimestamp,
  type NativeHistogramData,
  newInvalidMetric,
  newMetricWithExemplars,
  newMetricWithTimestamp,
  type NumberMap,
  type SummaryMetric,
  type Timestamp,
  UntypedValue,
  type ValueMetric,
  type ValueType,
} from "./value.ts";
export { type Collector, collectorName, isExporterMetrics, markExporterMetrics } from "./collector.ts";
export {
  AlreadyRegisteredError,
  type CollectorResult,
  type Gathered,
  type Gatherer,
  GatherError,
  type GatherOptions,
  type MetricFamily,
  Registry,
  type ResultCollector,
  UnknownCollectorError,
} from "./registry.ts";
export { giveBuffer, SparePool, spareTtlMs, takeBuffer } from "./reuse.ts";
export { maxTimerMs } from "./timers.ts";
export { defaultCollectors, defaultRegistry, mustRegister, register, unregister } from "./default_registry.ts";
export { newProcessCollector, type ProcessCollectorOpts } from "./process_collector.ts";
export { newRuntimeCollector, type RuntimeCollectorOpts, runtimeInfo } from "./runtime_collector.ts";
export { fromPromClient, type FromPromClientOpts, type PromClientRegistry } from "./promclient.ts";
export {
  contentType,
  contentTypes,
  encode,
  encodeBytes,
  type EncodeOpts,
  encodeSliced,
  type Format,
  seriesCount,
} from "./expfmt.ts";
export { type CounterOpts, type GaugeOpts, type Opts, type UntypedOpts } from "./opts.ts";
export { Counter, type CounterVec, newCounter, newCounterFunc, newCounterVec } from "./counter.ts";
export { Gauge, type GaugeVec, newGauge, newGaugeFunc, newGaugeVec, newUntypedFunc } from "./gauge.ts";
export { Histogram, type HistogramOpts, type HistogramVec, newHistogram, newHistogramVec } from "./histogram.ts";
export {
  defAgeBuckets,
  defBufCap,
  defMaxAge,
  newSummary,
  newSummaryVec,
  Summary,
  type SummaryOpts,
  type SummaryVec,
} from "./summary.ts";
export { type MetricResult, MetricVec, type VecChild } from "./vec.ts";
export { defBuckets, exponentialBuckets, exponentialBucketsRange, linearBuckets } from "./buckets.ts";
export { type ExemplarObserver, newTimer, type Observer, Timer } from "./timer.ts";
export { type Registerer, wrapRegistererWith, wrapRegistererWithPrefix } from "./wrap.ts";
export { Gatherers } from "./gatherers.ts";
export { newPedanticRegistry, PedanticRegistry } from "./pedantic_registry.ts";
/** Constructors that register what they make, as Go's `promauto`: `promauto.with(registry).newCounter(opts)`. */
export * as promauto from "./promauto.ts";
