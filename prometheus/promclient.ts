import type { Collector } from "./collector.ts";
import { type Desc, newDesc } from "./desc.ts";
import {
  CounterValue,
  GaugeValue,
  type Metric,
  mustNewConstHistogram,
  mustNewConstMetric,
  mustNewConstSummary,
  newInvalidMetric,
  UntypedValue,
} from "./value.ts";

type LabelValues = Record<string, string | number>;
interface PromClientValue {
  value: number;
  labels: LabelValues;
  metricName?: string;
}
interface PromClientMetricJSON {
  name: string;
  help: string;
  type: string;
  values: PromClientValue[];
}
/** A prom-client metric as its registry holds it: `get()` is there at run time, not in its types. */
interface PromClientMetric {
  name: string;
  help: string;
  get(): Promise<PromClientMetricJSON> | PromClientMetricJSON;
}

/**
 * What the bridge needs of a prom-client registry: `client.register`, or any
 * `new client.Registry()`. Declared here rather than imported, so that this kit's
 * types do not depend on prom-client's being installed.
 */
export interface PromClientRegistry {
  /** The registry's metrics. */
  getMetricsAsArray(): readonly { readonly name: string; readonly help: string }[];
  /** Labels prom-client adds to every series of the registry's output. */
  setDefaultLabels(labels: object): void;
}

/** Options for {@linkcode fromPromClient}. */
export interface FromPromClientOpts {
  /**
   * Also bridge prom-client metrics named `process_*` and `nodejs_*` (those of
   * `collectDefaultMetrics()`). Off by default: this kit's process and runtime
   * collectors export those families, and both at once would be refused at every
   * scrape as duplicates. Turn it on only in a registry without them.
   */
  readonly keepRuntimeMetrics?: boolean;
  /**
   * Told at debug level, once for each new name, which prom-client metrics were left
   * out. The kit's `Logger` fits.
   */
  readonly logger?: { debug(msg: string, fields?: Record<string, unknown>): void };
  /**
   * The collector's name (its `--collector.<name>` flag, `collector` label and log
   * lines); "prom-client" by default. Names are unique in a registry, so a second
   * bridge needs one of its own.
   */
  readonly name?: string;
}

/**
 * The registry's default labels, or undefined when it has none. prom-client 15 keeps
 * them in `_defaultLabels` and applies them only when it writes its own output
 * (`metrics()`, `getMetricsAsJSON()`), never in a metric's `get()`; it has no getter.
 */
function defaultLabels(registry: PromClientRegistry): LabelValues | undefined {
  const labels = (registry as { _defaultLabels?: LabelValues })._defaultLabels;
  return labels && Object.keys(labels).length > 0 ? labels : undefined;
}

/** prom-client's default metrics, without a prefix; this kit's own collectors export these families. */
const runtimeMetricName = /^(?:process|nodejs)_/;

/**
 * Returns a collector that exposes a prom-client registry (by default the one you
 * pass as `client.register`) through this registry, so that a prom-client
 * `Counter`, `Gauge`, `Histogram` or `Summary` appears in the same /metrics output.
 *
 * What prom-client's own output has is kept: the registry's default labels
 * (`setDefaultLabels`) are added to every series, the series' own labels winning, as
 * prom-client does. Exemplars are not: this kit's encoders do not write them yet.
 *
 * prom-client metrics named `process_*` or `nodejs_*`, as `collectDefaultMetrics()`
 * registers them, are left out unless `opts.keepRuntimeMetrics`: this kit's process
 * and runtime collectors export those families, with values true on Bun, Deno and
 * Node, at a fraction of the cost. They are skipped before prom-client collects them,
 * and logged once at debug level. With a `prefix` they keep their other names and
 * are bridged.
 *
 * Each prom-client metric is read on its own: one whose `collect()` throws is left
 * out and reported, where prom-client's own `metrics()` would fail the whole scrape.
 * The collector is unchecked (prom-client metrics can be created at any time), so
 * its output is checked at gather time instead of registration.
 *
 * @example
 * ```ts
 * import client from "prom-client";
 * const requests = new client.Counter({ name: "app_requests_total", help: "Requests.", labelNames: ["code"] });
 * client.register.setDefaultLabels({ service: "checkout" });
 * mustRegister(fromPromClient(client.register));
 * ```
 */
export function fromPromClient(registry: PromClientRegistry, opts: FromPromClientOpts = {}): Collector {
  return new PromClientCollector(registry, opts);
}

class PromClientCollector implements Collector {
  readonly name: string;
  readonly #registry: PromClientRegistry;
  readonly #opts: FromPromClientOpts;
  /** Descs by name, help and label names; prom-client metrics live long. */
  readonly #descs = new Map<string, Desc>();
  /** Names already logged as skipped. */
  readonly #skipped = new Set<string>();

  constructor(registry: PromClientRegistry, opts: FromPromClientOpts) {
    this.#registry = registry;
    this.#opts = opts;
    this.name = opts.name ?? "prom-client";
  }

  describe(): void {}

  async collect(ch: (m: Metric) => void): Promise<void> {
    const all = this.#registry.getMetricsAsArray() as readonly PromClientMetric[];
    const metrics = this.#opts.keepRuntimeMetrics ? all : all.filter((m) => !runtimeMetricName.test(m.name));
    if (metrics.length !== all.length) this.#logSkipped(all);
    const defaults = defaultLabels(this.#registry);
    await Promise.all(metrics.map(async (metric) => {
      try {
        const json = await metric.get();
        this.#convert(json, defaults, ch);
      } catch (e) {
        const desc = this.#desc(metric.name, metric.help, []);
        ch(newInvalidMetric(desc, e instanceof Error ? e : new Error(String(e))));
      }
    }));
  }

  #logSkipped(all: readonly PromClientMetric[]): void {
    const fresh = all.filter((m) => runtimeMetricName.test(m.name) && !this.#skipped.has(m.name)).map((m) => m.name);
    if (fresh.length === 0) return;
    for (const n of fresh) this.#skipped.add(n);
    this.#opts.logger?.debug("prom-client metrics left to the kit's process and runtime collectors", {
      collector: this.name,
      skipped: fresh.length,
      names: fresh.sort().join(","),
    });
  }

  #desc(name: string, help: string, labelNames: string[]): Desc {
    const key = `${name}\u0000${help}\u0000${labelNames.join("\u0000")}`;
    let d = this.#descs.get(key);
    if (!d) this.#descs.set(key, d = newDesc(name, help, labelNames));
    return d;
  }

  #convert(json: PromClientMetricJSON, defaults: LabelValues | undefined, ch: (m: Metric) => void): void {
    // The series' own labels win over the registry's defaults, as in prom-client.
    const m = defaults
      ? { ...json, values: json.values.map((v) => ({ ...v, labels: { ...defaults, ...v.labels } })) }
      : json;
    switch (m.type) {
      case "counter":
      case "gauge":
      case "untyped":
        for (const v of m.values) {
          const names = Object.keys(v.labels).sort();
          const desc = this.#desc(m.name, m.help, names);
          const type = m.type === "counter" ? CounterValue : m.type === "gauge" ? GaugeValue : UntypedValue;
          ch(mustNewConstMetric(desc, type, v.value, ...names.map((n) => String(v.labels[n]))));
        }
        return;
      case "histogram":
        return this.#grouped(
          m,
          "le",
          (desc, g, values) => ch(mustNewConstHistogram(desc, g.count, g.sum, g.points, ...values)),
        );
      case "summary":
        return this.#grouped(
          m,
          "quantile",
          (desc, g, values) => ch(mustNewConstSummary(desc, g.count, g.sum, g.points, ...values)),
        );
      default:
        throw new Error(`prom-client metric ${m.name} has unsupported type ${JSON.stringify(m.type)}`);
    }
  }

  /**
   * prom-client flattens histograms and summaries into samples named `_bucket`,
   * `_sum` and `_count`; group them back by label set.
   */
  #grouped(
    m: PromClientMetricJSON,
    pointLabel: "le" | "quantile",
    emit: (desc: Desc, g: { count: number; sum: number; points: Map<number, number> }, values: string[]) => void,
  ): void {
    const groups = new Map<string, { labels: LabelValues; count: number; sum: number; points: Map<number, number> }>();
    for (const v of m.values) {
      const { [pointLabel]: point, ...labels } = v.labels;
      const names = Object.keys(labels).sort();
      const key = names.map((n) => `${n}\u0001${labels[n]}`).join("\u0000");
      let g = groups.get(key);
      if (!g) groups.set(key, g = { labels, count: 0, sum: 0, points: new Map() });
      const suffix = (v.metricName ?? m.name).slice(m.name.length);
      if (suffix === "_sum") g.sum = v.value;
      else if (suffix === "_count") g.count = v.value;
      else if (point !== undefined) g.points.set(point === "+Inf" ? Infinity : Number(point), v.value);
    }
    for (const g of groups.values()) {
      const names = Object.keys(g.labels).sort();
      emit(this.#desc(m.name, m.help, names), g, names.map((n) => String(g.labels[n])));
    }
  }
}
