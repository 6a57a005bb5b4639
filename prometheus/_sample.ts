// What the metrics with state (counter.ts, gauge.ts, histogram.ts, summary.ts) send
// from collect: a snapshot of one series, as Go's Write fills a dto.Metric. The label
// values array is the series' own, frozen at creation and shared by every snapshot, so
// a snapshot costs one object (a histogram's also its bucket pairs).
import type { Desc, Labels } from "./desc.ts";
import { isValidLabelName } from "./_labels.ts";
import {
  type Exemplar,
  type HistogramMetric,
  type NativeHistogramData,
  renderLabels,
  type SummaryMetric,
  type ValueMetric,
  type ValueType,
} from "./value.ts";

abstract class Sample {
  readonly desc: Desc;
  readonly labelValues: readonly string[];
  readonly createdTimestampMs: number | undefined;
  constructor(desc: Desc, labelValues: readonly string[], createdTimestampMs: number | undefined) {
    this.desc = desc;
    this.labelValues = labelValues;
    this.createdTimestampMs = createdTimestampMs;
  }
  /** All label pairs sorted by name and escaped, without braces (errors and duplicates only). */
  get _labels(): string {
    return renderLabels(this.desc, this.labelValues);
  }
}

/**
 * The label values array of a snapshot's series: the same array object in every
 * snapshot of that series, so that the registry can tell a family whose series are
 * those of its last gather without comparing values. Undefined for any other metric.
 */
export function seriesLabels(m: object): readonly string[] | undefined {
  return m instanceof Sample ? m.labelValues : undefined;
}

/** A counter's, gauge's or untyped metric's value at collect time. */
export class ValueSample extends Sample implements ValueMetric {
  readonly type: ValueType;
  readonly value: number;
  readonly exemplar: Exemplar | undefined;
  constructor(
    desc: Desc,
    labelValues: readonly string[],
    type: ValueType,
    value: number,
    createdTimestampMs: number | undefined,
    exemplar: Exemplar | undefined,
  ) {
    super(desc, labelValues, createdTimestampMs);
    this.type = type;
    this.value = value;
    this.exemplar = exemplar;
  }
}

/** A histogram at collect time. */
export class HistogramSample extends Sample implements HistogramMetric {
  readonly type = "histogram";
  readonly count: number;
  readonly sum: number;
  readonly buckets: readonly (readonly [number, number])[];
  readonly bucketExemplars: readonly (Exemplar | undefined)[] | undefined;
  readonly native: NativeHistogramData | undefined;
  constructor(
    desc: Desc,
    labelValues: readonly string[],
    count: number,
    sum: number,
    buckets: readonly (readonly [number, number])[],
    createdTimestampMs: number,
    bucketExemplars: readonly (Exemplar | undefined)[] | undefined,
    native: NativeHistogramData | undefined,
  ) {
    super(desc, labelValues, createdTimestampMs);
    this.count = count;
    this.sum = sum;
    this.buckets = buckets;
    this.bucketExemplars = bucketExemplars;
    this.native = native;
  }
}

/** A summary at collect time. */
export class SummarySample extends Sample implements SummaryMetric {
  readonly type = "summary";
  readonly count: number;
  readonly sum: number;
  readonly quantiles: readonly (readonly [number, number])[];
  constructor(
    desc: Desc,
    labelValues: readonly string[],
    count: number,
    sum: number,
    quantiles: readonly (readonly [number, number])[],
    createdTimestampMs: number,
  ) {
    super(desc, labelValues, createdTimestampMs);
    this.count = count;
    this.sum = sum;
    this.quantiles = quantiles;
  }
}

/** OpenMetrics' limit on an exemplar's label set: names and values, in characters. */
export const exemplarMaxRunes = 128;

/**
 * An exemplar of `value` observed now, its labels checked as Go's `newExemplar`: valid
 * names, valid UTF-8 values, at most 128 characters (code points) in all. Throws,
 * naming `where`, when they are not.
 */
export function newExemplar(where: string, value: number, labels: Labels): Exemplar {
  if (labels === null || typeof labels !== "object") throw new TypeError(`${where}: exemplar labels must be an object`);
  let runes = 0;
  const copy: Labels = {};
  for (const name in labels) {
    const v = labels[name];
    if (!isValidLabelName(name)) throw new Error(`${where}: exemplar label name ${JSON.stringify(name)} is invalid`);
    if (typeof v !== "string" || !v.isWellFormed()) {
      throw new Error(`${where}: exemplar label value ${JSON.stringify(v)} is not valid UTF-8`);
    }
    runes += codePoints(name) + codePoints(v);
    copy[name] = v;
  }
  if (runes > exemplarMaxRunes) {
    throw new Error(`${where}: exemplar labels have ${runes} runes, exceeding the limit of ${exemplarMaxRunes}`);
  }
  return { labels: Object.freeze(copy), value, timestampMs: Date.now() };
}

/** Code points in a well-formed string: its UTF-16 units less one per surrogate pair. */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return n;
}

/** Throws unless every label value can be exposed (valid UTF-8), naming the metric and label. */
export function checkLabelValues(desc: Desc, values: readonly string[]): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "string" || !v.isWellFormed()) {
      throw new Error(
        `metric ${JSON.stringify(desc.fqName)}: label ${desc.variableLabels[i]}: value ${
          JSON.stringify(v)
        } is not valid UTF-8`,
      );
    }
  }
}

/**
 * The name a metric with state goes by as a collector (in errors, logs and the
 * per-collector `*_scrape_collector_*` series): its metric name, with its constant
 * labels when it has any, so that no two registered in one registry share one.
 */
export function collectorNameOf(desc: Desc): string {
  const names = Object.keys(desc.constLabels).sort();
  if (names.length === 0) return desc.fqName;
  return `${desc.fqName}{${names.map((n) => `${n}=${JSON.stringify(desc.constLabels[n])}`).join(",")}}`;
}
