import { isSelectable } from "../prometheus/collector.ts";
import { type Desc, newDesc } from "../prometheus/desc.ts";
import type { CollectorResult, Registry, ResultCollector } from "../prometheus/registry.ts";
import { GaugeValue, type Metric, mustNewConstMetric } from "../prometheus/value.ts";

/**
 * The default prefix of the exporter's own families (`ts_exporter_build_info`,
 * `ts_exporter_scrape_collector_*`). It sorts after the tutorial's `foo_metric`, so
 * the tutorial's six lines stay together in the output.
 */
export const defaultNamespace = "ts_exporter";

/** The names of the collectors `collect[]` and `--collector.<name>` apply to. */
export function selectableCollectors(registry: Registry): string[] {
  return registry.collectors().filter((c) => isSelectable(c.collector)).map((c) => c.name);
}

/**
 * node_exporter's per-collector metrics, `<namespace>_scrape_collector_duration_seconds`
 * and `<namespace>_scrape_collector_success`, for the collectors a gather ran: the
 * registry runs it after the others (its `afterwards` option), so that its series are
 * checked as every collector's.
 */
export class ScrapeCollectorMetrics implements ResultCollector {
  readonly name = "scrape_collector";
  readonly #duration: Desc;
  readonly #success: Desc;

  constructor(namespace: string) {
    this.#duration = newDesc(`${namespace}_scrape_collector_duration_seconds`, "Duration of a collector scrape.", [
      "collector",
    ]);
    this.#success = newDesc(`${namespace}_scrape_collector_success`, "Whether a collector succeeded.", ["collector"]);
  }

  describe(ch: (d: Desc) => void): void {
    ch(this.#duration);
    ch(this.#success);
  }

  collectResults(results: readonly CollectorResult[], ch: (m: Metric) => void): void {
    for (const r of results) {
      if (!isSelectable(r.collector)) continue;
      ch(mustNewConstMetric(this.#duration, GaugeValue, r.durationSeconds, r.name));
      ch(mustNewConstMetric(this.#success, GaugeValue, r.success ? 1 : 0, r.name));
    }
  }
}
