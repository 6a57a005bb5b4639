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
  GatherError,
  type Gatherer,
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
export { contentType, contentTypes, encode, encodeBytes, type EncodeOpts, encodeSliced, type Format, seriesCount } from "./expfmt.ts";
