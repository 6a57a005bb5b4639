import { escapeLabelValue } from "./_bytes.ts";
import type { Desc, Labels } from "./desc.ts";
import { isValidLabelName } from "./_labels.ts";

/** A counter: a value that only goes up (resets on restart). */
export const CounterValue = "counter";
/** A gauge: a value that can go up and down. */
export const GaugeValue = "gauge";
/** An untyped value, for sources that do not say what they measure. */
export const UntypedValue = "untyped";

/** The type of a single-value metric, as Go's `prometheus.ValueType`. */
export type ValueType = typeof CounterValue | typeof GaugeValue | typeof UntypedValue;

/** Every metric type a family can have. */
export type MetricType = ValueType | "histogram" | "summary";

/**
 * An exemplar: one observation with labels that identify it (a trace ID, say), as
 * OpenMetrics' exemplars and Go's `dto.Exemplar`. Its label set is at most 128 UTF-8
 * characters, names and values together.
 */
export interface Exemplar {
  /** Its labels (a trace ID, say). */
  readonly labels: Readonly<Labels>;
  /** The observed value. */
  readonly value: number;
  /** When it was observed, in milliseconds since the epoch; none when undefined. */
  readonly timestampMs?: number;
}

/** A span of consecutive native-histogram buckets, as Go's `dto.BucketSpan`. */
export interface BucketSpan {
  /** Gap to the previous span (or, for the first, the index of its first bucket). */
  readonly offset: number;
  /** How many consecutive buckets it covers. */
  readonly length: number;
}

/**
 * The sparse exponential buckets of a native histogram, as the protobuf exposition
 * carries them (`io.prometheus.client.Histogram`'s native fields): bucket boundaries
 * are powers of `2^(2^-schema)`; counts are absolute per bucket (not deltas, not
 * cumulative), in the order of the spans.
 */
export interface NativeHistogramData {
  /** The resolution, -4 to 8: each bucket is `2^(2^-schema)` times as wide as the one before. */
  readonly schema: number;
  /** Observations with an absolute value up to this are counted in the zero bucket. */
  readonly zeroThreshold: number;
  /** The zero bucket's count. */
  readonly zeroCount: number;
  /** Where the positive buckets in `positiveCounts` are. */
  readonly positiveSpans: readonly BucketSpan[];
  /** The positive buckets' counts, in span order. */
  readonly positiveCounts: readonly number[];
  /** Where the negative buckets in `negativeCounts` are. */
  readonly negativeSpans: readonly BucketSpan[];
  /** The negative buckets' counts, in span order. */
  readonly negativeCounts: readonly number[];
  /** Exemplars of the native histogram (protobuf only). */
  readonly exemplars?: readonly Exemplar[];
}

/** What every metric has: its Desc, label values and optional timestamps. */
export interface MetricBase {
  /** The descriptor this metric was built from. */
  readonly desc: Desc;
  /** An explicit sample timestamp in milliseconds since the epoch (`newMetricWithTimestamp`). */
  readonly timestampMs?: number;
  /**
   * When a counter, histogram or summary was created or last reset, in milliseconds
   * since the epoch: `_created` in OpenMetrics, `created_timestamp` in protobuf.
   */
  readonly createdTimestampMs?: number;
  /** The variable label values, in the order of `desc.variableLabels`. */
  readonly labelValues: readonly string[];
  /**
   * @internal All label pairs sorted by name and escaped, without braces, e.g.
   * `code="200",method="get"`. The same in both text formats; also the series key.
   */
  readonly _labels: string;
}

/** A counter, gauge or untyped sample. */
export interface ValueMetric extends MetricBase {
  /** Counter, gauge or untyped. */
  readonly type: ValueType;
  /** The sample's value. */
  readonly value: number;
  /** The exemplar of a counter, written in OpenMetrics and protobuf only. */
  readonly exemplar?: Exemplar;
}

/** A histogram: cumulative bucket counts by upper bound, plus count and sum. */
export interface HistogramMetric extends MetricBase {
  /** Always `"histogram"`. */
  readonly type: "histogram";
  /** How many observations. */
  readonly count: number;
  /** The sum of the observations. */
  readonly sum: number;
  /** `[upperBound, cumulativeCount]` pairs, sorted by upper bound. */
  readonly buckets: readonly (readonly [number, number])[];
  /**
   * Exemplars of the classic buckets: index `i` belongs to `buckets[i]`, index
   * `buckets.length` to the implied `+Inf` bucket; holes are buckets without one.
   */
  readonly bucketExemplars?: readonly (Exemplar | undefined)[];
  /** The native (sparse) buckets, when the histogram has them; protobuf only. */
  readonly native?: NativeHistogramData;
}

/** A summary: precomputed quantiles plus count and sum. */
export interface SummaryMetric extends MetricBase {
  /** Always `"summary"`. */
  readonly type: "summary";
  /** How many observations. */
  readonly count: number;
  /** The sum of the observations. */
  readonly sum: number;
  /** `[quantile, value]` pairs, sorted by quantile. */
  readonly quantiles: readonly (readonly [number, number])[];
}

/**
 * Stands for a metric that could not be read, as Go's `prometheus.NewInvalidMetric`:
 * the registry reports `error` against the collector and leaves the family out.
 */
export interface InvalidMetric extends MetricBase {
  /** Always `"invalid"`. */
  readonly type: "invalid";
  /** Why the metric could not be read. */
  readonly error: Error;
}

/** A single series (or histogram/summary) ready to be exposed, as Go's `prometheus.Metric`. */
export type Metric = ValueMetric | HistogramMetric | SummaryMetric | InvalidMetric;

/** Numbers keyed by bound or quantile: a Map, or an object such as `{ 0.5: 3 }`. */
export type NumberMap = ReadonlyMap<number, number> | Readonly<Record<string, number>>;

function checkDesc(desc: Desc): void {
  if (desc.err) throw new Error(`descriptor ${desc} is invalid: ${desc.err.message}`);
}

/** Checks the number of label values and that each can be exposed (valid UTF-8). */
function checkLabelValues(desc: Desc, labelValues: readonly string[]): void {
  checkLabelCount(desc, labelValues.length);
  for (let i = 0; i < labelValues.length; i++) checkLabelValue(desc, i, labelValues[i]);
}

function checkLabelCount(desc: Desc, got: number): void {
  const want = desc.variableLabels.length;
  if (got !== want) {
    throw new Error(
      `metric ${JSON.stringify(desc.fqName)}: expected ${want} label values` +
        (want ? ` (${desc.variableLabels.join(", ")})` : "") + `, got ${got}`,
    );
  }
}

function checkLabelValue(desc: Desc, i: number, v: unknown): void {
  // A string is valid UTF-8 unless it holds a lone surrogate; isWellFormed is native
  // and ~2x faster than a regular expression looking for surrogates first.
  if (typeof v !== "string" || !v.isWellFormed()) {
    throw new Error(
      `metric ${JSON.stringify(desc.fqName)}: label ${
        desc.variableLabels[i]
      } has a value that is not a valid UTF-8 string: ${JSON.stringify(v)}`,
    );
  }
}

/** All label pairs sorted by name and escaped, without braces: `code="200",method="get"`. */
export function renderLabels(desc: Desc, labelValues: readonly string[]): string {
  const seg = desc._segments, order = desc._order;
  let out = seg[0];
  for (let k = 0; k < order.length; k++) out += escapeLabelValue(labelValues[order[k]]) + seg[k + 1];
  return out;
}

/**
 * The shared part of every metric: its Desc and label values, checked when built.
 * Up to three label values are kept in fields, more in an array: a scrape of 100k
 * series would otherwise allocate an array per series besides the metric, and on the
 * benchmark machine every allocated page costs a fault (see reuse.ts). The
 * `labelValues` array is made only when asked for, in error messages and tests; the
 * registry and encoders read values with {@linkcode labelValueAt}. The rendered label
 * set is likewise only made when asked for.
 */
class Series {
  readonly desc: Desc;
  readonly _n: number;
  readonly _l0: string | undefined;
  readonly _l1: string | undefined;
  readonly _l2: string | undefined;
  /** All values, when there are more than three. */
  readonly _all: readonly string[] | undefined;
  constructor(
    desc: Desc,
    n: number,
    l0: string | undefined,
    l1: string | undefined,
    l2: string | undefined,
    all: readonly string[] | undefined,
  ) {
    this.desc = desc;
    this._n = n;
    this._l0 = l0;
    this._l1 = l1;
    this._l2 = l2;
    this._all = all;
  }
  /** The variable label values, in the order of `desc.variableLabels`. */
  get labelValues(): readonly string[] {
    if (this._all) return this._all;
    const n = this._n;
    return n === 0 ? [] : n === 1 ? [this._l0!] : n === 2 ? [this._l0!, this._l1!] : [this._l0!, this._l1!, this._l2!];
  }
  /** @internal All label pairs, sorted by name and escaped, without braces. */
  get _labels(): string {
    return renderLabels(this.desc, this.labelValues);
  }
}

/** Series fields for label values given as an array. */
function fromArray(
  desc: Desc,
  v: readonly string[],
): [Desc, number, string | undefined, string | undefined, string | undefined, readonly string[] | undefined] {
  return v.length > 3
    ? [desc, v.length, undefined, undefined, undefined, v]
    : [desc, v.length, v[0], v[1], v[2], undefined];
}

/** The `i`th variable label value of `m`, without making its `labelValues` array. */
export function labelValueAt(m: Metric, i: number): string {
  if (m instanceof ConstValue) return m._at(i);
  if (m instanceof Series) {
    if (m._all !== undefined) return m._all[i];
    return (i === 0 ? m._l0 : i === 1 ? m._l1 : m._l2)!;
  }
  return m.labelValues[i];
}

/** The number of variable label values of `m`. */
export function labelCount(m: Metric): number {
  if (m instanceof ConstValue) return m.desc.variableLabels.length;
  return m instanceof Series ? m._n : m.labelValues.length;
}

/**
 * What mustNewConstMetric makes: the one object a scrape of const metrics allocates per
 * series, so it holds six fields where a Series with a type and a value held eight: 64
 * bytes a metric on JavaScriptCore instead of 80 (bun:jsc's
 * estimateShallowMemoryUsageOf). Its label count is its Desc's, checked when it is made;
 * up to three values are kept in fields, more by {@linkcode ConstValueN}. A scrape of
 * 100k series makes 100k of them, garbage once the registry has read them: measured
 * with bench/ab_series.ts (8 interleaved rounds, series_server compiled), the peak RSS
 * serving 100k series was 117 (108–122) MiB against 120 (117–122) with the 80-byte one.
 */
class ConstValue implements ValueMetric {
  readonly desc: Desc;
  readonly _l0: string | undefined;
  readonly _l1: string | undefined;
  readonly _l2: string | undefined;
  readonly type: ValueType;
  readonly value: number;
  constructor(
    desc: Desc,
    type: ValueType,
    value: number,
    l0: string | undefined,
    l1: string | undefined,
    l2: string | undefined,
  ) {
    this.desc = desc;
    this._l0 = l0;
    this._l1 = l1;
    this._l2 = l2;
    this.type = type;
    this.value = value;
  }
  /** The `i`th variable label value. */
  _at(i: number): string {
    return (i === 0 ? this._l0 : i === 1 ? this._l1 : this._l2)!;
  }
  /** The variable label values, in the order of `desc.variableLabels`. */
  get labelValues(): readonly string[] {
    const n = this.desc.variableLabels.length;
    return n === 0 ? [] : n === 1 ? [this._l0!] : n === 2 ? [this._l0!, this._l1!] : [this._l0!, this._l1!, this._l2!];
  }
  /** @internal All label pairs, sorted by name and escaped, without braces. */
  get _labels(): string {
    return renderLabels(this.desc, this.labelValues);
  }
}

/** A {@linkcode ConstValue} of more than three label values, kept in an array. */
class ConstValueN extends ConstValue {
  readonly _all: readonly string[];
  constructor(desc: Desc, type: ValueType, value: number, all: readonly string[]) {
    super(desc, type, value, undefined, undefined, undefined);
    this._all = all;
  }
  override _at(i: number): string {
    return this._all[i];
  }
  override get labelValues(): readonly string[] {
    return this._all;
  }
}

/** Whether `m` was made by mustNewConstMetric (the registry keeps those in columns). */
export function isConstValue(m: Metric): boolean {
  return m instanceof ConstValue;
}

/**
 * Copies the label values of a mustNewConstMetric metric into `out` from index `at`;
 * returns whether `out` held the same values there already (a series sent again).
 */
export function readConstValue(m: Metric, out: string[], at: number): boolean {
  const c = m as ConstValue;
  let same = true;
  const n = c.desc.variableLabels.length;
  if (n > 3) {
    const all = (c as ConstValueN)._all;
    for (let i = 0; i < n; i++) {
      if (out[at + i] !== all[i]) {
        out[at + i] = all[i];
        same = false;
      }
    }
    return same;
  }
  if (n > 0 && out[at] !== c._l0) {
    out[at] = c._l0!;
    same = false;
  }
  if (n > 1 && out[at + 1] !== c._l1) {
    out[at + 1] = c._l1!;
    same = false;
  }
  if (n > 2 && out[at + 2] !== c._l2) {
    out[at + 2] = c._l2!;
    same = false;
  }
  return same;
}

/** A mustNewConstMetric metric from checked parts, as the registry's columns hold them. */
export function constValue(desc: Desc, type: ValueType, value: number, labelValues: readonly string[]): ValueMetric {
  return labelValues.length > 3
    ? new ConstValueN(desc, type, value, labelValues)
    : new ConstValue(desc, type, value, labelValues[0], labelValues[1], labelValues[2]);
}

class ConstHistogram extends Series implements HistogramMetric {
  readonly type = "histogram";
  constructor(
    desc: Desc,
    readonly count: number,
    readonly sum: number,
    readonly buckets: readonly (readonly [number, number])[],
    labelValues: readonly string[],
  ) {
    super(...fromArray(desc, labelValues));
  }
}

class ConstSummary extends Series implements SummaryMetric {
  readonly type = "summary";
  constructor(
    desc: Desc,
    readonly count: number,
    readonly sum: number,
    readonly quantiles: readonly (readonly [number, number])[],
    labelValues: readonly string[],
  ) {
    super(...fromArray(desc, labelValues));
  }
}

class Invalid extends Series implements InvalidMetric {
  readonly type = "invalid";
  constructor(desc: Desc, readonly error: Error) {
    super(desc, 0, undefined, undefined, undefined, undefined);
  }
}

function checkNumber(desc: Desc, what: string, v: unknown): number {
  if (typeof v !== "number") {
    throw new Error(`metric ${JSON.stringify(desc.fqName)}: ${what} must be a number, got ${typeof v}`);
  }
  return v;
}

/**
 * Returns a metric with one fixed value, as Go's `prometheus.MustNewConstMetric`. It
 * throws, naming the metric, when the Desc is invalid, the value is not a number, or
 * the number of label values differs from the Desc's variable labels. Inside
 * `collect`, such a throw fails only that collector.
 *
 * @example
 * ```ts
 * ch(mustNewConstMetric(fooDesc, CounterValue, 1));
 * ch(mustNewConstMetric(reqDesc, CounterValue, 42, "200"));
 * ```
 */
export function mustNewConstMetric(
  desc: Desc,
  valueType: ValueType,
  value: number,
  ...labelValues: string[]
): ValueMetric;
// Label values are read from `arguments` rather than a rest parameter, which would
// allocate an array on every call (see Series).
export function mustNewConstMetric(
  desc: Desc,
  valueType: ValueType,
  value: number,
  l0?: string,
  l1?: string,
  l2?: string,
): ValueMetric {
  checkDesc(desc);
  if (valueType !== CounterValue && valueType !== GaugeValue && valueType !== UntypedValue) {
    throw new Error(`metric ${JSON.stringify(desc.fqName)}: unknown value type ${JSON.stringify(valueType)}`);
  }
  checkNumber(desc, "value", value);
  const n = arguments.length - 3;
  if (n > 3) {
    const all: string[] = [];
    for (let i = 3; i < arguments.length; i++) all.push(arguments[i]);
    checkLabelValues(desc, all);
    return new ConstValueN(desc, valueType, value, all);
  }
  checkLabelCount(desc, n);
  if (n > 0) checkLabelValue(desc, 0, l0);
  if (n > 1) checkLabelValue(desc, 1, l1);
  if (n > 2) checkLabelValue(desc, 2, l2);
  return new ConstValue(desc, valueType, value, l0, l1, l2);
}

function sortedPairs(desc: Desc, what: string, m: NumberMap): [number, number][] {
  const entries: [number, number][] = m instanceof Map
    ? [...m.entries()]
    : Object.entries(m).map(([k, v]) => [k === "+Inf" ? Infinity : Number(k), v]);
  for (const [k, v] of entries) {
    if (Number.isNaN(k)) throw new Error(`metric ${JSON.stringify(desc.fqName)}: ${what} key is not a number`);
    checkNumber(desc, `${what} value`, v);
  }
  return entries.sort((a, b) => a[0] - b[0]);
}

function checkReservedLabel(desc: Desc, label: string, kind: string): void {
  if (desc.variableLabels.includes(label) || label in desc.constLabels) {
    throw new Error(`metric ${JSON.stringify(desc.fqName)}: label "${label}" is reserved in a ${kind}`);
  }
}

/**
 * Returns a histogram with fixed values, as Go's `prometheus.MustNewConstHistogram`.
 * `buckets` maps each upper bound to its cumulative count; the `+Inf` bucket is
 * implied by `count`.
 *
 * @example
 * ```ts
 * ch(mustNewConstHistogram(latencyDesc, 4711, 403.34, new Map([[0.1, 2000], [1, 4000]])));
 * ```
 */
export function mustNewConstHistogram(
  desc: Desc,
  count: number,
  sum: number,
  buckets: NumberMap,
  ...labelValues: string[]
): HistogramMetric {
  checkDesc(desc);
  checkReservedLabel(desc, "le", "histogram");
  checkNumber(desc, "count", count);
  checkNumber(desc, "sum", sum);
  const pairs = sortedPairs(desc, "bucket", buckets);
  checkLabelValues(desc, labelValues);
  return new ConstHistogram(desc, count, sum, pairs, labelValues);
}

/**
 * Returns a summary with fixed values, as Go's `prometheus.MustNewConstSummary`.
 * `quantiles` maps each quantile (0 to 1) to its value.
 *
 * @example
 * ```ts
 * ch(mustNewConstSummary(rpcDesc, 4711, 403.34, { 0.5: 42.3, 0.9: 323.3 }));
 * ```
 */
export function mustNewConstSummary(
  desc: Desc,
  count: number,
  sum: number,
  quantiles: NumberMap,
  ...labelValues: string[]
): SummaryMetric {
  checkDesc(desc);
  checkReservedLabel(desc, "quantile", "summary");
  checkNumber(desc, "count", count);
  checkNumber(desc, "sum", sum);
  const pairs = sortedPairs(desc, "quantile", quantiles);
  for (const [q] of pairs) {
    if (q < 0 || q > 1) throw new Error(`metric ${JSON.stringify(desc.fqName)}: quantile ${q} is outside [0, 1]`);
  }
  checkLabelValues(desc, labelValues);
  return new ConstSummary(desc, count, sum, pairs, labelValues);
}

/**
 * Returns a metric that reports `error` instead of a value, as Go's
 * `prometheus.NewInvalidMetric`: send it from `collect` when one family cannot be
 * read, and the rest of what the collector sends is still exposed.
 *
 * @example
 * ```ts
 * ch(newInvalidMetric(tempDesc, new Error("sensor unreachable")));
 * ```
 */
export function newInvalidMetric(desc: Desc, error: Error): InvalidMetric {
  return new Invalid(desc, error);
}

/** A time as milliseconds since the epoch: a Date, or a number of milliseconds. */
export type Timestamp = Date | number;

function toMs(desc: Desc, what: string, t: Timestamp): number {
  const ms = t instanceof Date ? t.getTime() : t;
  if (typeof ms !== "number" || !Number.isFinite(ms)) {
    throw new Error(`metric ${JSON.stringify(desc.fqName)}: ${what} must be a finite time, got ${String(t)}`);
  }
  return ms;
}

/**
 * A copy of `m` with some of its optional parts set, as a plain object: the
 * registry keeps it as it is (not in a column), so these parts reach the encoders.
 */
function derive<M extends Metric>(m: Exclude<Metric, InvalidMetric>, extra: Record<string, unknown>): M {
  const base = {
    desc: m.desc,
    labelValues: m.labelValues,
    _labels: m._labels,
    timestampMs: m.timestampMs,
    createdTimestampMs: m.createdTimestampMs,
  };
  let fields: object;
  switch (m.type) {
    case "histogram":
      fields = {
        type: m.type,
        count: m.count,
        sum: m.sum,
        buckets: m.buckets,
        bucketExemplars: m.bucketExemplars,
        native: m.native,
      };
      break;
    case "summary":
      fields = { type: m.type, count: m.count, sum: m.sum, quantiles: m.quantiles };
      break;
    default:
      fields = { type: m.type, value: m.value, exemplar: m.exemplar };
  }
  return Object.freeze({ ...base, ...fields, ...extra }) as unknown as M;
}

function checkMetric(m: Metric, what: string): asserts m is Exclude<Metric, InvalidMetric> {
  if (m.type === "invalid") throw new Error(`metric ${JSON.stringify(m.desc.fqName)}: ${what} of an invalid metric`);
}

/**
 * Returns `m` with an explicit timestamp, as Go's `prometheus.NewMetricWithTimestamp`:
 * written after the value (milliseconds in the text format, seconds in OpenMetrics,
 * `timestamp_ms` in protobuf). Prometheus then stores the sample at that time, not the
 * scrape's; use it only for values read from elsewhere with their own time.
 *
 * @example
 * ```ts
 * ch(newMetricWithTimestamp(lastRun, mustNewConstMetric(jobDesc, GaugeValue, 1)));
 * ```
 */
export function newMetricWithTimestamp<M extends Metric>(t: Timestamp, m: M): M {
  checkMetric(m, "a timestamp");
  // As Go's: whole milliseconds (t.Unix()*1000 + t.Nanosecond()/1e6).
  return derive<M>(m, { timestampMs: Math.floor(toMs(m.desc, "timestamp", t)) });
}

/** An exemplar as given to {@linkcode newMetricWithExemplars}: its timestamp defaults to now, as Go's. */
export interface ExemplarInput {
  /** The observed value. */
  readonly value: number;
  /** Its labels, at most 128 characters in all. */
  readonly labels: Readonly<Labels>;
  /** When it was observed: a Date or milliseconds since the epoch; now when absent. */
  readonly timestamp?: Timestamp;
}

/** The most runes an exemplar's label names and values may have together (OpenMetrics). */
export const exemplarMaxRunes = 128;

function checkExemplar(desc: Desc, e: ExemplarInput, now: number): Exemplar {
  const where = `metric ${JSON.stringify(desc.fqName)}`;
  let runes = 0;
  for (const [name, value] of Object.entries(e.labels)) {
    if (!isValidLabelName(name)) throw new Error(`${where}: exemplar label name ${JSON.stringify(name)} is invalid`);
    if (typeof value !== "string" || !value.isWellFormed()) {
      throw new Error(`${where}: exemplar label value ${JSON.stringify(value)} is not valid UTF-8`);
    }
    runes += [...name].length + [...value].length;
  }
  if (runes > exemplarMaxRunes) {
    throw new Error(`${where}: exemplar labels have ${runes} runes, exceeding the limit of ${exemplarMaxRunes}`);
  }
  checkNumber(desc, "exemplar value", e.value);
  const timestampMs = e.timestamp === undefined ? now : toMs(desc, "exemplar timestamp", e.timestamp);
  return Object.freeze({ labels: Object.freeze({ ...e.labels }), value: e.value, timestampMs });
}

/**
 * Returns `m` with exemplars, as Go's `prometheus.NewMetricWithExemplars`: a counter
 * takes the last one; a histogram puts each in the first classic bucket whose upper
 * bound is at least its value (the `+Inf` bucket past the last), the last one per
 * bucket winning, and a native histogram keeps them all. Exemplars are written in
 * OpenMetrics and protobuf only. Throws, naming the metric, for a gauge, summary or
 * untyped metric, no exemplars, an invalid label name or value, or labels over 128
 * runes.
 *
 * @example
 * ```ts
 * ch(newMetricWithExemplars(mustNewConstMetric(reqDesc, CounterValue, 42, "200"), { value: 1, labels: { trace_id: "abc" } }));
 * ```
 */
export function newMetricWithExemplars<M extends Metric>(m: M, ...exemplars: ExemplarInput[]): M {
  checkMetric(m, "exemplars");
  const desc = m.desc;
  if (exemplars.length === 0) {
    throw new Error(`metric ${JSON.stringify(desc.fqName)}: no exemplar was passed for newMetricWithExemplars`);
  }
  const now = Date.now();
  const exs = exemplars.map((e) => checkExemplar(desc, e, now));
  if (m.type === "counter") return derive<M>(m, { exemplar: exs[exs.length - 1] });
  if (m.type !== "histogram") {
    throw new Error(
      `metric ${
        JSON.stringify(desc.fqName)
      }: cannot inject exemplar into a ${m.type}; only counters and histograms take exemplars`,
    );
  }
  const buckets = m.buckets;
  const bucketExemplars: (Exemplar | undefined)[] = [...(m.bucketExemplars ?? [])];
  const n = m.native;
  const isNative = n !== undefined &&
    (n.zeroThreshold !== 0 || n.zeroCount !== 0 || n.positiveSpans.length !== 0 || n.negativeSpans.length !== 0);
  const nativeExemplars: Exemplar[] = [...(n?.exemplars ?? [])];
  for (const e of exs) {
    if (isNative) {
      nativeExemplars.push(e);
      if (buckets.length === 0) continue; // no classic buckets to put it in
    }
    let i = 0;
    while (i < buckets.length && buckets[i][0] < e.value) i++;
    bucketExemplars[i] = e;
  }
  const native = n === undefined ? undefined : Object.freeze({ ...n, exemplars: Object.freeze(nativeExemplars) });
  return derive<M>(m, { bucketExemplars: Object.freeze(bucketExemplars), native });
}

/**
 * Returns a counter with a created timestamp, as Go's
 * `prometheus.NewConstMetricWithCreatedTimestamp`: `created_timestamp` in protobuf, a
 * `_created` line in OpenMetrics when the handler's
 * `enableOpenMetricsTextCreatedSamples` is set. Only counters have one; throws,
 * naming the metric, for any other type.
 *
 * @example
 * ```ts
 * ch(mustNewConstMetricWithCreatedTimestamp(reqDesc, CounterValue, 42, startedAt, "200"));
 * ```
 */
export function mustNewConstMetricWithCreatedTimestamp(
  desc: Desc,
  valueType: ValueType,
  value: number,
  created: Timestamp,
  ...labelValues: string[]
): ValueMetric {
  const m = mustNewConstMetric(desc, valueType, value, ...labelValues);
  if (valueType !== CounterValue) {
    throw new Error(`metric ${JSON.stringify(desc.fqName)}: created timestamps are only supported for counters`);
  }
  return derive<typeof m>(m, { createdTimestampMs: toMs(desc, "created timestamp", created) });
}

/**
 * {@linkcode mustNewConstHistogram} with a created timestamp, as Go's
 * `prometheus.NewConstHistogramWithCreatedTimestamp`.
 */
export function mustNewConstHistogramWithCreatedTimestamp(
  desc: Desc,
  count: number,
  sum: number,
  buckets: NumberMap,
  created: Timestamp,
  ...labelValues: string[]
): HistogramMetric {
  const m = mustNewConstHistogram(desc, count, sum, buckets, ...labelValues);
  return derive<typeof m>(m, { createdTimestampMs: toMs(desc, "created timestamp", created) });
}

/**
 * {@linkcode mustNewConstSummary} with a created timestamp, as Go's
 * `prometheus.NewConstSummaryWithCreatedTimestamp`.
 */
export function mustNewConstSummaryWithCreatedTimestamp(
  desc: Desc,
  count: number,
  sum: number,
  quantiles: NumberMap,
  created: Timestamp,
  ...labelValues: string[]
): SummaryMetric {
  const m = mustNewConstSummary(desc, count, sum, quantiles, ...labelValues);
  return derive<typeof m>(m, { createdTimestampMs: toMs(desc, "created timestamp", created) });
}

/** Bucket counts keyed by bucket index: a Map, or an object such as `{ "-1": 2, 0: 3 }`. */
export type BucketCounts = ReadonlyMap<number, number> | Readonly<Record<string, number>>;

/** client_golang's limits on a native histogram's schema. */
export const nativeHistogramSchemaMinimum = -4, nativeHistogramSchemaMaximum = 8;

/**
 * Spans and absolute counts from counts by bucket index, as client_golang's
 * makeBucketsFromMap: gaps of one or two empty buckets are filled with zeros rather
 * than opening a new span.
 */
export function spansFromBuckets(buckets: ReadonlyMap<number, number>): { spans: BucketSpan[]; counts: number[] } {
  const indexes = [...buckets.keys()].sort((a, b) => a - b);
  const spans: { offset: number; length: number }[] = [];
  const counts: number[] = [];
  let next = 0;
  indexes.forEach((i, n) => {
    const gap = i - next;
    if (n === 0 || gap > 2) spans.push({ offset: gap, length: 0 });
    else {
      for (let j = 0; j < gap; j++) {
        spans[spans.length - 1].length++;
        counts.push(0);
      }
    }
    spans[spans.length - 1].length++;
    counts.push(buckets.get(i)!);
    next = i + 1;
  });
  return { spans, counts };
}

function bucketMap(desc: Desc, what: string, b: BucketCounts): Map<number, number> {
  const entries: [number, number][] = b instanceof Map
    ? [...b.entries()]
    : Object.entries(b).map(([k, v]) => [Number(k), v]);
  for (const [k, v] of entries) {
    if (!Number.isSafeInteger(k)) {
      throw new Error(`metric ${JSON.stringify(desc.fqName)}: ${what} bucket index ${k} is not an integer`);
    }
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new Error(
        `metric ${JSON.stringify(desc.fqName)}: ${what} bucket ${k} has count ${v}, not a non-negative integer`,
      );
    }
  }
  return new Map(entries);
}

/**
 * Returns a native histogram with fixed values, as Go's
 * `prometheus.MustNewConstNativeHistogram`: counts by bucket index of `schema` (bucket
 * 0 has upper bound 1 among the positive buckets, lower bound -1 among the negative),
 * the zero bucket's count and threshold. It has no classic buckets: the text formats
 * show its count and sum (and a `+Inf` bucket), protobuf all of it. Throws, naming the
 * metric, when the schema is outside [-4, 8] or the bucket counts do not add up to
 * `count` (with a NaN sum, they may be fewer).
 *
 * @example
 * ```ts
 * ch(mustNewConstNativeHistogram(latency, 5, 2.5, { 0: 2, 1: 3 }, {}, 0, 3, 0, startedAt));
 * ```
 */
export function mustNewConstNativeHistogram(
  desc: Desc,
  count: number,
  sum: number,
  positiveBuckets: BucketCounts,
  negativeBuckets: BucketCounts,
  zeroBucket: number,
  schema: number,
  zeroThreshold: number,
  created: Timestamp,
  ...labelValues: string[]
): HistogramMetric {
  const m = mustNewConstHistogram(desc, count, sum, {}, ...labelValues);
  const where = `metric ${JSON.stringify(desc.fqName)}`;
  if (!Number.isInteger(schema) || schema > nativeHistogramSchemaMaximum || schema < nativeHistogramSchemaMinimum) {
    throw new Error(`${where}: invalid native histogram schema ${schema}`);
  }
  checkNumber(desc, "zero threshold", zeroThreshold);
  checkNumber(desc, "zero bucket", zeroBucket);
  const pos = bucketMap(desc, "positive", positiveBuckets), neg = bucketMap(desc, "negative", negativeBuckets);
  let population = zeroBucket;
  for (const v of pos.values()) population += v;
  for (const v of neg.values()) population += v;
  if ((Number.isNaN(sum) && population > count) || (!Number.isNaN(sum) && population !== count)) {
    throw new Error(
      `${where}: the sum of all bucket populations (${population}) does not match the count of observations (${count})`,
    );
  }
  const p = spansFromBuckets(pos), n = spansFromBuckets(neg);
  const native: NativeHistogramData = Object.freeze({
    schema,
    zeroThreshold,
    zeroCount: zeroBucket,
    positiveSpans: p.spans,
    positiveCounts: p.counts,
    negativeSpans: n.spans,
    negativeCounts: n.counts,
  });
  return derive<HistogramMetric>(m, { native, createdTimestampMs: toMs(desc, "created timestamp", created) });
}
