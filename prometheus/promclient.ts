import type { Registry as PromClientRegistry } from "prom-client";
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

/**
 * Returns a collector that exposes a prom-client registry (by default the one you
 * pass as `client.register`) through this registry, so that a prom-client
 * `Counter`, `Gauge`, `Histogram` or `Summary` appears in the same /metrics output.
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
 * mustRegister(fromPromClient(client.register));
 * ```
 */
export function fromPromClient(registry: PromClientRegistry): Collector {
  return new PromClientCollector(registry);
}

class PromClientCollector implements Collector {
  readonly name = "prom-client";
  readonly #registry: PromClientRegistry;
  /** Descs by name, help and label names; prom-client metrics live long. */
  readonly #descs = new Map<string, Desc>();

  constructor(registry: PromClientRegistry) {
    this.#registry = registry;
  }

  describe(): void {}

  async collect(ch: (m: Metric) => void): Promise<void> {
    const metrics = this.#registry.getMetricsAsArray() as unknown as { name: string; help: string; get(): unknown }[];
    await Promise.all(metrics.map(async (metric) => {
      try {
        const json = (await metric.get()) as PromClientMetricJSON;
        this.#convert(json, ch);
      } catch (e) {
        const desc = this.#desc(metric.name, metric.help, []);
        ch(newInvalidMetric(desc, e instanceof Error ? e : new Error(String(e))));
      }
    }));
  }

  #desc(name: string, help: string, labelNames: string[]): Desc {
    const key = `${name}\u0000${help}\u0000${labelNames.join("\u0000")}`;
    let d = this.#descs.get(key);
    if (!d) this.#descs.set(key, d = newDesc(name, help, labelNames));
    return d;
  }

  #convert(m: PromClientMetricJSON, ch: (m: Metric) => void): void {
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
        return this.#grouped(m, "le", (desc, g, values) =>
          ch(mustNewConstHistogram(desc, g.count, g.sum, g.points, ...values)));
      case "summary":
        return this.#grouped(m, "quantile", (desc, g, values) =>
          ch(mustNewConstSummary(desc, g.count, g.sum, g.points, ...values)));
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
