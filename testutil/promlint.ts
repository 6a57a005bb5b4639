// promlint's rules for metric names, types, labels and help, as `promtool check
// metrics` applies them, written from their documented behaviour, plus the rule for
// duplicate series that promlint gained after Prometheus 2.42.
import { encode } from "../prometheus/expfmt.ts";
import type { Collector } from "../prometheus/mod.ts";
import { gather } from "./_gather.ts";
import { parseText, type TextFamily } from "./text_parser.ts";

/**
 * A finding of the linter, as Go's `promlint.Problem`: the family it is about and
 * what is wrong, worded as promtool words it (`promtool check metrics` prints
 * `<metric> <text>`).
 *
 * @example
 * ```ts
 * const problem: Problem = { metric: "foo_metric", text: 'counter metrics should have "_total" suffix' };
 * ```
 */
export interface Problem {
  /** The name of the metric family, e.g. `foo_metric`. */
  readonly metric: string;
  /** What is wrong, e.g. `counter metrics should have "_total" suffix`. */
  readonly text: string;
}

type Rule = (f: TextFamily) => string[];

/** Units, each with its base unit; a base unit maps to itself. */
const units: ReadonlyMap<string, string> = new Map([
  ...["amperes", "bytes", "celsius", "grams", "joules", "kelvin", "meters", "metres", "seconds", "volts"].map(
    (u) => [u, u] as const,
  ),
  ["minutes", "seconds"],
  ["hours", "seconds"],
  ["days", "seconds"],
  ["weeks", "seconds"],
  ["kelvins", "kelvin"],
  ["fahrenheit", "celsius"],
  ["rankine", "celsius"],
  ["inches", "meters"],
  ["yards", "meters"],
  ["miles", "meters"],
  ["bits", "bytes"],
  ["calories", "joules"],
  ["pounds", "grams"],
  ["ounces", "grams"],
]);

/** Prefixes that make any unit a non-base one. ("mibi" is promlint's spelling.) */
const unitPrefixes = [
  "pico",
  "nano",
  "micro",
  "milli",
  "centi",
  "deci",
  "deca",
  "hecto",
  "kilo",
  "kibi",
  "mega",
  "mibi",
  "giga",
  "gibi",
  "tera",
  "tebi",
  "peta",
  "pebi",
]; // prettier-ignore

/** Abbreviations that name a unit, matched as whole `_`-separated words. */
const unitAbbreviations = ["s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d"];

/** The type names a metric name should not contain (untyped is no type). */
const typeNames = ["counter", "gauge", "summary", "histogram", "gauge_histogram"];

const camelCaseRe = /[a-z][A-Z]/;

/** Every label name of every series, once per series, as promlint walks them. */
function labelNames(f: TextFamily): string[] {
  return f.metrics.flatMap((m) => m.labels.map(([n]) => n));
}

/** `_word_` anywhere in the name, or `_word` at its end. */
function hasWord(name: string, word: string): boolean {
  return name.includes(`_${word}_`) || name.endsWith(`_${word}`);
}

const help: Rule = (f) => (f.help === undefined ? ["no help text"] : []);

/**
 * A name's first `_`-separated word that is a unit, alone or after a prefix
 * ("kilobytes"). promtool 2.42 picks one at random (Go map order) when a name holds
 * two such words; this takes the first, so that the result is stable.
 */
const metricUnits: Rule = (f) => {
  for (const word of f.name.split("_")) {
    for (const p of ["", ...unitPrefixes]) {
      const base = word.startsWith(p) ? units.get(word.slice(p.length)) : undefined;
      if (base === undefined) continue;
      return word === base ? [] : [`use base unit "${base}" instead of "${word}"`];
    }
  }
  return [];
};

const counter: Rule = (f) => {
  const total = f.name.endsWith("_total");
  if (f.type === "counter" && !total) return [`counter metrics should have "_total" suffix`];
  if (f.type !== "counter" && f.type !== "untyped" && total) {
    return [`non-counter metrics should not have "_total" suffix`];
  }
  return [];
};

const histogramSummaryReserved: Rule = (f) => {
  if (f.type === "untyped") return []; // an untyped family may be anything
  const histogram = f.type === "histogram", summary = f.type === "summary";
  const out: string[] = [];
  if (!histogram && f.name.endsWith("_bucket")) out.push(`non-histogram metrics should not have "_bucket" suffix`);
  for (const s of ["_count", "_sum"]) {
    if (!histogram && !summary && f.name.endsWith(s)) {
      out.push(`non-histogram and non-summary metrics should not have "${s}" suffix`);
    }
  }
  for (const n of labelNames(f)) {
    if (!histogram && n === "le") out.push(`non-histogram metrics should not have "le" label`);
    if (!summary && n === "quantile") out.push(`non-summary metrics should not have "quantile" label`);
  }
  return out;
};

const metricTypeInName: Rule = (f) => {
  const name = f.name.toLowerCase();
  return typeNames.filter((t) => hasWord(name, t)).map((t) => `metric name should not include type '${t}'`);
};

const reservedChars: Rule = (f) => (f.name.includes(":") ? ["metric names should not contain ':'"] : []);

const camelCase: Rule = (f) => [
  ...(camelCaseRe.test(f.name) ? ["metric names should be written in 'snake_case' not 'camelCase'"] : []),
  ...labelNames(f).filter((n) => camelCaseRe.test(n)).map(() =>
    "label names should be written in 'snake_case' not 'camelCase'"
  ),
];

/** One finding per abbreviation found, as promlint. */
const abbreviatedUnits: Rule = (f) => {
  const name = f.name.toLowerCase();
  return unitAbbreviations.filter((a) => hasWord(name, a)).map(() =>
    "metric names should not contain abbreviated units"
  );
};

/**
 * One finding per series that appears again later in the family. Newer promlint
 * (client_golang 1.15+) has this rule, promtool 2.42 does not. Labels are compared
 * as sets, since `{a="1",b="2"}` and `{b="2",a="1"}` are one series; for histograms
 * and summaries, whose samples the parser groups into one series per label set, a
 * repeated bucket, quantile, `_sum` or `_count` line is the duplicate.
 */
const duplicateSeries: Rule = (f) => {
  const keys = f.type === "histogram" || f.type === "summary"
    ? f.metrics.flatMap((m) => m.samples.map((s) => s.name + JSON.stringify(sorted(s.labels))))
    : f.metrics.map((m) => JSON.stringify(sorted(m.labels)));
  return keys.filter((k, i) => keys.indexOf(k, i + 1) >= 0).map(() => "metric not unique");
};

function sorted(labels: readonly (readonly [string, string])[]): (readonly [string, string])[] {
  return [...labels].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

const rules: readonly Rule[] = [
  help,
  metricUnits,
  counter,
  histogramSummaryReserved,
  metricTypeInName,
  reservedChars,
  camelCase,
  abbreviatedUnits,
  duplicateSeries,
];

/**
 * Lints a text exposition (format 0.0.4) with promlint's rules, as
 * `promtool check metrics` does, and returns the problems sorted by metric, then
 * text. A rule that matches several times (a camelCase label on each of three
 * series) reports each time, as promlint does. Families without samples are not
 * linted. Throws, naming the line, when the text does not parse, with the message
 * Go's parser gives.
 *
 * The rules: no help text; a non-base unit (`_milliseconds`, `_kilobytes`, `_hours`…);
 * a counter without `_total`, or `_total` on a gauge, histogram or summary; `_bucket`,
 * `_count`, `_sum` suffixes and `le`, `quantile` labels on the wrong type; a type
 * name in the metric name; `:` in the name; camelCase metric or label names; an
 * abbreviated unit (`_ms`, `_s`, `_kb`…); and duplicate series ("metric not unique").
 *
 * @example
 * ```ts
 * const problems = lint("# TYPE requests counter\nrequests 1\n");
 * // [{ metric: "requests", text: 'counter metrics should have "_total" suffix' },
 * //  { metric: "requests", text: "no help text" }]
 * ```
 */
export function lint(text: string): Problem[] {
  const problems: Problem[] = [];
  for (const f of parseText(text)) {
    for (const rule of rules) for (const t of rule(f)) problems.push({ metric: f.name, text: t });
  }
  // Array.prototype.sort is stable, as promlint's sort.SliceStable.
  return problems.sort((a, b) =>
    a.metric !== b.metric ? (a.metric < b.metric ? -1 : 1) : a.text < b.text ? -1 : a.text > b.text ? 1 : 0
  );
}

/**
 * Collects `collector` in a throw-away Registry and lints the families named in
 * `metricNames` (all when none are), as Go's `testutil.CollectAndLint`. The
 * collected families are linted as their text exposition, so the result is what
 * `promtool check metrics` says about the same output on `/metrics` — including
 * "no help text" for an empty help string, which Go's version lets pass. Throws when
 * registration or the gather fails.
 *
 * @example
 * ```ts
 * expect(await collectAndLint(newFooCollector(), "foo_metric")).toEqual([
 *   { metric: "foo_metric", text: 'counter metrics should have "_total" suffix' },
 * ]);
 * ```
 */
export async function collectAndLint(collector: Collector, ...metricNames: string[]): Promise<Problem[]> {
  const families = await gather("collectAndLint", collector, metricNames);
  return lint(encode(families, "text"));
}
