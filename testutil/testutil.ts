// The collect-and-check helpers of Go's prometheus/testutil: each runs a collector in
// a throw-away Registry, so that a collector under test meets the same registration
// and gather checks as in production.
import { escapeHelpText, escapeLabelValue, formatValue } from "../prometheus/expfmt.ts";
import { isLegacyName } from "../prometheus/escaping.ts";
import { type Collector, encode, type Metric } from "../prometheus/mod.ts";
import { unifiedDiff } from "./_diff.ts";
import { gather } from "./_gather.ts";
import { parseFloat64, parseText, type TextFamily, type TextSample } from "./text_parser.ts";

/**
 * Collects `collector` and compares its text exposition with `expected`, as Go's
 * `testutil.CollectAndCompare`. When `metricNames` are given, only those families are
 * compared, on both sides.
 *
 * Both sides are parsed and written back in one canonical form before comparing, so
 * `expected` may order families, series and labels as it likes, indent its lines,
 * write `1.0` for `1` and leave out a histogram's `+Inf` bucket. HELP and TYPE
 * still count: a family must have the help text and type it is collected with.
 *
 * Throws, with a `-want +got` diff of the canonical forms, when they differ; throws
 * when the collector cannot be registered, when the gather reports an error (a
 * failing collector, duplicate series), and when `expected` does not parse.
 *
 * @example
 * ```ts
 * await collectAndCompare(newFooCollector(), `
 *   # HELP foo_metric Shows whether a foo has occurred in our cluster
 *   # TYPE foo_metric counter
 *   foo_metric 1
 * `, "foo_metric");
 * ```
 */
export async function collectAndCompare(
  collector: Collector,
  expected: string,
  ...metricNames: string[]
): Promise<void> {
  const families = await gather("collectAndCompare", collector, metricNames);
  let want: TextFamily[];
  try {
    want = parseText(expected, { lenient: true, utf8: true });
  } catch (e) {
    throw new Error(`collectAndCompare: parsing expected metrics failed: ${(e as Error).message}`, { cause: e });
  }
  if (metricNames.length > 0) want = want.filter((f) => metricNames.includes(f.name));
  // The collected side goes through the same parser, so that both are equally canonical.
  const wantText = canonicalText(want);
  const gotText = canonicalText(parseText(encode(families, "text", { escaping: "allow-utf-8" }), { utf8: true }));
  const diff = unifiedDiff(wantText, gotText);
  if (diff !== "") {
    throw new Error(`collectAndCompare: collected metrics differ from the expected ones (-want +got):\n${diff}`);
  }
}

/**
 * Returns the number of series `collector` sends, in the families named in
 * `metricNames` (all when none are), as Go's `testutil.CollectAndCount`: one per
 * counter, gauge or untyped sample, one per histogram or summary (not per bucket or
 * quantile). Throws when registration or the gather fails.
 *
 * @example
 * ```ts
 * expect(await collectAndCount(newFooCollector())).toBe(2);
 * expect(await collectAndCount(newFooCollector(), "foo_metric")).toBe(1);
 * ```
 */
export async function collectAndCount(collector: Collector, ...metricNames: string[]): Promise<number> {
  const families = await gather("collectAndCount", collector, metricNames);
  return families.reduce((n, f) => n + f.metrics.length, 0);
}

/**
 * Returns the value of the single counter, gauge or untyped sample that
 * `collectorOrMetric` is or collects, as Go's `testutil.ToFloat64`. Throws when a
 * collector sends anything but exactly one series, naming how many it sent, or when
 * the series is a histogram or summary.
 *
 * @example
 * ```ts
 * const queueDesc = newDesc("queue_length", "Items waiting.");
 * expect(await toFloat64(mustNewConstMetric(queueDesc, GaugeValue, 3))).toBe(3);
 * expect(await toFloat64({
 *   name: "queue",
 *   describe: (ch) => ch(queueDesc),
 *   collect: (ch) => ch(mustNewConstMetric(queueDesc, GaugeValue, 42)),
 * })).toBe(42);
 * ```
 */
export async function toFloat64(collectorOrMetric: Collector | Metric): Promise<number> {
  let metric: Metric;
  if (typeof (collectorOrMetric as Collector).collect === "function") {
    const families = await gather("toFloat64", collectorOrMetric as Collector, []);
    const all = families.flatMap((f) => f.metrics);
    if (all.length !== 1) {
      const names = families.map((f) => f.name).join(", ");
      throw new Error(`toFloat64: collected ${all.length} metrics instead of exactly 1${names ? ` (${names})` : ""}`);
    }
    metric = all[0];
  } else {
    metric = collectorOrMetric as Metric;
  }
  switch (metric.type) {
    case "counter":
    case "gauge":
    case "untyped":
      return metric.value;
    case "invalid":
      throw new Error(`toFloat64: metric ${JSON.stringify(metric.desc.fqName)} is invalid: ${metric.error.message}`);
    default:
      throw new Error(
        `toFloat64: metric ${
          JSON.stringify(metric.desc.fqName)
        } is a ${metric.type}, want a counter, gauge or untyped metric`,
      );
  }
}

/**
 * Returns the exposition of what `collector` sends, in the families named in
 * `metricNames` (all when none are), as Go's `testutil.CollectAndFormat`:
 * `"text"` is the text format 0.0.4, `"openmetrics"` OpenMetrics 1.0.0 (with its
 * `# EOF`). Throws when registration or the gather fails.
 *
 * @example
 * ```ts
 * const text = await collectAndFormat(newFooCollector(), "openmetrics", "foo_metric");
 * // # HELP foo_metric Shows whether a foo has occurred in our cluster
 * // # TYPE foo_metric counter
 * // foo_metric_total 1
 * // # EOF
 * ```
 */
export async function collectAndFormat(
  collector: Collector,
  format: "text" | "openmetrics",
  ...metricNames: string[]
): Promise<string> {
  if (format !== "text" && format !== "openmetrics") {
    throw new Error(`collectAndFormat: unknown format ${JSON.stringify(format)}, want "text" or "openmetrics"`);
  }
  const families = await gather("collectAndFormat", collector, metricNames);
  return encode(families, format === "text" ? "text" : "openmetrics-1.0.0");
}

/** Label pairs sorted by name, as the encoders write them. */
function sortedLabels(labels: readonly (readonly [string, string])[]): (readonly [string, string])[] {
  return [...labels].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function compareStrings(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length - b.length;
}

/** `name{a="1",b="2",le="0.5"} 3 [ts]`: sorted labels, then `le`/`quantile`, canonical numbers. */
function sampleLine(s: TextSample, special: string | undefined): string {
  const own = sortedLabels(s.labels.filter(([n]) => n !== special));
  const extra = s.labels.filter(([n]) => n === special).map(([n, v]) => [n, formatValue(parseFloat64(v)!)] as const);
  const pairs = [...own, ...extra].map(([n, v]) => `${name(n)}="${escapeLabelValue(v)}"`).join(",");
  const ts = s.timestampMs === undefined ? "" : ` ${s.timestampMs}`;
  // As the text format writes it: a name beyond the legacy grammar inside the braces.
  const series = isLegacyName(s.name)
    ? `${s.name}${pairs ? `{${pairs}}` : ""}`
    : `{${name(s.name)}${pairs ? `,${pairs}` : ""}}`;
  return `${series} ${formatValue(s.value)}${ts}`;
}

/** A name in the canonical form: bare when legacy, else quoted (one form for both sides). */
function name(n: string): string {
  return isLegacyName(n) ? n : `"${escapeLabelValue(n)}"`;
}

/**
 * Writes families in one canonical text form: families by name, series by label
 * values in label-name order (as the registry sorts them), a histogram's buckets
 * by bound with `+Inf` added when missing, then `_sum` and `_count`.
 */
function canonicalText(families: readonly TextFamily[]): string {
  let out = "";
  for (const f of [...families].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (f.help !== undefined) out += `# HELP ${name(f.name)} ${escapeHelpText(f.help)}\n`;
    out += `# TYPE ${name(f.name)} ${f.type}\n`;
    const special = f.type === "histogram" ? "le" : f.type === "summary" ? "quantile" : undefined;
    const metrics = f.metrics.map((m) => ({ key: sortedLabels(m.labels).map(([, v]) => v), m }));
    metrics.sort((a, b) => compareStrings(a.key, b.key));
    for (const { m } of metrics) {
      // Rank: bound or quantile first, by value; then _sum, _count, and anything else.
      const rank = (s: TextSample): [number, number] => {
        const bound = s.labels.find(([n]) => n === special);
        if (bound && (s.name === f.name || s.name === f.name + "_bucket")) return [0, parseFloat64(bound[1])!];
        return [s.name === f.name + "_sum" ? 1 : s.name === f.name + "_count" ? 2 : 3, 0];
      };
      const samples = [...m.samples];
      if (f.type === "histogram") {
        const count = samples.find((s) => s.name === f.name + "_count");
        const hasInf = samples.some((s) => rank(s)[0] === 0 && rank(s)[1] === Infinity);
        if (count && !hasInf) {
          samples.push({ ...count, name: f.name + "_bucket", labels: [...count.labels, ["le", "+Inf"]] });
        }
      }
      samples.sort((a, b) => {
        const [ra, va] = rank(a), [rb, vb] = rank(b);
        return ra !== rb ? ra - rb : va - vb;
      });
      // A bucket may be written without `_bucket` (Go's parser takes any sample with
      // an `le` label of a histogram for a bucket): one name for both sides.
      for (const s of samples) {
        const bucket = f.type === "histogram" && rank(s)[0] === 0 ? { ...s, name: f.name + "_bucket" } : s;
        out += sampleLine(bucket, special) + "\n";
      }
    }
  }
  return out;
}
