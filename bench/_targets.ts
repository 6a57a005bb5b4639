// The targets of `make bench`, each written once: its label, what it compares, the
// formula that turns ours and the reference into the judged figure, and the goal. The
// goal column of the table and the met/NOT MET verdict both come from `limit`, so the
// two cannot disagree.
import type { Row } from "./_report.ts";

const MiB = 2 ** 20;

/** How a measurement is shown: milliseconds, microseconds, MiB, MB or a plain count. */
export type Unit = "ms" | "µs" | "ns" | "MiB" | "MB" | "/s";

/**
 * How ours and the reference become the judged figure:
 * - `ratio`: ours ÷ reference ≤ limit;
 * - `excess`: ours − reference ≤ limit, in the target's unit;
 * - `absolute`: ours ≤ limit; the reference is shown beside it for scale only;
 * - `reported`: no goal (a figure that depends on the machine, shown for reading).
 */
export type Formula = "ratio" | "excess" | "absolute" | "reported";

/** One target of issue 14 (and the earlier issues' that still hold). */
export interface Target {
  readonly label: string;
  readonly unit: Unit;
  readonly formula: Formula;
  /** The bound of the formula's figure, in the target's unit (a factor for `ratio`). */
  readonly limit: number;
  /** What the reference is, when the row does not say it already (e.g. "Go", "hello_serve"). */
  readonly reference?: string;
}

function show(x: number, unit: Unit): string {
  if (!Number.isFinite(x)) return "n/a";
  switch (unit) {
    case "ms":
      return `${x.toFixed(x >= 100 ? 0 : 1)} ms`;
    case "µs":
      return `${x.toFixed(x >= 10 ? 0 : 2)} µs`;
    case "ns":
      return `${x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2)} ns`;
    case "MiB":
      return `${(x / MiB).toFixed(1)} MiB`;
    case "MB":
      return `${(x / 1e6).toFixed(2)} MB`;
    case "/s":
      return `${x.toFixed(0)}/s`;
  }
}

/** The goal as the table shows it, from the same `limit` the verdict uses. */
export function goal(t: Target): string {
  switch (t.formula) {
    case "ratio":
      return `≤ ${t.limit}×`;
    case "excess":
      return `≤ +${
        t.unit === "MiB" ? `${t.limit / MiB} MiB` : t.unit === "MB" ? `${t.limit / 1e6} MB` : show(t.limit, t.unit)
      }`;
    case "absolute":
      return `≤ ${show(t.limit, t.unit)}`;
    case "reported":
      return "—";
  }
}

/** The judged figure: a ratio, a difference, or ours itself. */
export function figure(t: Target, ours: number, reference: number): number {
  return t.formula === "ratio" ? ours / reference : t.formula === "excess" ? ours - reference : ours;
}

/** Whether ours meets the target; NaN (a failed measurement) never does. */
export function meets(t: Target, ours: number, reference: number): boolean {
  const x = figure(t, ours, reference);
  return Number.isFinite(x) && x <= t.limit;
}

/**
 * The table row for one measurement of target `t`. `paired`, for a `ratio` target timed
 * in alternating rounds, is the median of the rounds' own ratios: the judged figure
 * then, as a pause of the machine moves both sides of a round alike but not the two
 * medians (`ours` and `reference` are still shown).
 */
export function judge(t: Target, ours: number, reference: number, paired?: number): Row {
  if (paired !== undefined && t.formula !== "ratio") throw new Error(`${t.label}: a paired figure is a ratio`);
  const x = paired ?? figure(t, ours, reference);
  // A ratio of two signed figures (an RSS change against another) means nothing.
  const shownRatio = t.formula === "excess"
    ? `${x >= 0 ? "+" : ""}${show(x, t.unit)}`
    : paired !== undefined
    ? (Number.isFinite(paired) ? `${paired.toFixed(2)}× (paired)` : "—")
    : ours > 0 && reference > 0 && Number.isFinite(ours / reference)
    ? `${(ours / reference).toFixed(2)}×`
    : "—";
  return {
    target: t.label,
    ours: show(ours, t.unit),
    reference: Number.isFinite(reference) ? `${show(reference, t.unit)}${t.reference ? ` (${t.reference})` : ""}` : "—",
    ratio: shownRatio,
    goal: goal(t),
    judged: t.formula === "absolute" ? show(ours, t.unit) : shownRatio,
    status: t.formula === "reported"
      ? "reported"
      : (paired === undefined ? meets(t, ours, reference) : Number.isFinite(paired) && paired <= t.limit)
      ? "met"
      : "NOT MET",
  };
}

/** Every target, by key. The numbers are issue 14's. */
export const targets = {
  cpuExporter: {
    label: "CPU per default scrape, ./exporter vs Go",
    unit: "µs",
    formula: "ratio",
    limit: 0.2,
  },
  cpuDeno: { label: "CPU per default scrape, deno run vs Go", unit: "µs", formula: "ratio", limit: 0.2 },
  rateExporter: {
    label: "scrapes/s, ./exporter (one core) vs Go (both cores)",
    unit: "/s",
    formula: "reported",
    limit: NaN,
  },
  rateDeno: { label: "scrapes/s, deno run (one core) vs Go (both cores)", unit: "/s", formula: "reported", limit: NaN },
  seriesIdentity: { label: "100k-series scrape, identity, vs Go", unit: "ms", formula: "ratio", limit: 0.1 },
  seriesGzip: { label: "100k-series scrape, gzip, vs Go", unit: "ms", formula: "ratio", limit: 0.1 },
  // Issue 16: the protobuf exposition at scale, against the Go reference's protobuf
  // scrape of the same families; the goal is the 100k-series scrape's.
  protobufSeries: { label: "100k-series scrape, protobuf, vs Go", unit: "ms", formula: "ratio", limit: 0.1 },
  protobufClassic: {
    label: "100k classic histograms, protobuf scrape, vs Go",
    unit: "ms",
    formula: "ratio",
    limit: 0.1,
  },
  protobufNative: { label: "100k native histograms, protobuf scrape, vs Go", unit: "ms", formula: "ratio", limit: 0.1 },
  // Issue 16: the text encoder's own work (100k series into a kept buffer, as the
  // handler's) within 10 % of the encoder at e192f95, main before issue 16, timed side
  // by side in one process on each runtime.
  encoderBun: {
    label: "text encoder, 100k series, Bun, vs before issue 16 (e192f95)",
    unit: "ms",
    formula: "ratio",
    limit: 1.1,
  },
  encoderDeno: {
    label: "text encoder, 100k series, Deno, vs before issue 16 (e192f95)",
    unit: "ms",
    formula: "ratio",
    limit: 1.1,
  },
  perSeries: {
    label: "marginal cost per series (10k→100k)",
    unit: "µs",
    formula: "absolute",
    limit: 0.2,
    reference: "Go",
  },
  stall: {
    label: "worst /-/healthy latency during 250k-series scrapes",
    unit: "ms",
    formula: "absolute",
    limit: 50,
    reference: "Go, its 404",
  },
  firstScrape: {
    label: "start to first scrape, ./exporter vs hello_serve",
    unit: "ms",
    formula: "excess",
    limit: 10,
  },
  version: { label: "./exporter --version vs hello_serve's start", unit: "ms", formula: "excess", limit: 5 },
  healthcheck: { label: "./exporter --healthcheck vs hello_serve's start", unit: "ms", formula: "excess", limit: 5 },
  idleRss: { label: "idle RSS after first scrape vs hello_serve", unit: "MiB", formula: "excess", limit: 8 * MiB },
  seriesRss: { label: "RSS serving 100k series vs Go", unit: "MiB", formula: "ratio", limit: 1 },
  rssGrowth: {
    label: "RSS growth over 10,000 scrapes",
    unit: "MiB",
    formula: "absolute",
    limit: 5 * MiB,
    reference: "Go",
  },
  // --bytecode (BUILD_FLAGS) stores each module's compiled bytecode beside its source:
  // +3.1 MB for this module graph, most of it the YAML parser's, which only
  // --web.config.file loads; it is what halves start-up (Makefile). The limit was
  // +3 MB of source before; +4 MB keeps it a guard against the graph growing.
  binarySize: { label: "binary size vs compiled hello", unit: "MB", formula: "excess", limit: 4e6 },
  // Issue 17: the metrics with state, per operation on Bun, against prom-client 15 on
  // Bun (every op at least 5x faster) and client_golang's `go test -bench`.
  counterIncPromClient: { label: "counter.inc() vs prom-client (Bun)", unit: "ns", formula: "ratio", limit: 0.2 },
  counterIncGo: { label: "counter.inc() vs client_golang", unit: "ns", formula: "ratio", limit: 1 },
  vecIncPromClient: {
    label: "withLabelValues(a, b).inc() vs prom-client (Bun)",
    unit: "ns",
    formula: "ratio",
    limit: 0.2,
  },
  vecIncGo: { label: "withLabelValues(a, b).inc() vs client_golang", unit: "ns", formula: "ratio", limit: 2 },
  observePromClient: { label: "histogram.observe() vs prom-client (Bun)", unit: "ns", formula: "ratio", limit: 0.2 },
  observeGo: { label: "histogram.observe() vs client_golang", unit: "ns", formula: "ratio", limit: 1 },
  summaryPromClient: {
    label: "summary.observe() (3 objectives) vs prom-client (Bun)",
    unit: "ns",
    formula: "ratio",
    limit: 0.2,
  },
  summaryGo: {
    label: "summary.observe() (3 objectives) vs client_golang",
    unit: "ns",
    formula: "reported",
    limit: NaN,
  },
  gaugeSetPromClient: { label: "gauge.set() vs prom-client (Bun)", unit: "ns", formula: "ratio", limit: 0.2 },
  gaugeSetGo: { label: "gauge.set() vs client_golang", unit: "ns", formula: "ratio", limit: 1 },
  scrape10kGo: {
    label: "gather + encode 10k instrumented series vs client_golang",
    unit: "ms",
    formula: "ratio",
    limit: 0.5,
  },
  scrape10kPromClient: {
    label: "gather + encode 10k instrumented series vs prom-client (Bun)",
    unit: "ms",
    formula: "reported",
    limit: NaN,
  },
} as const satisfies Record<string, Target>;
