import { type Collector, isExporterMetrics } from "../prometheus/collector.ts";
import { newDesc } from "../prometheus/desc.ts";
import type { CollectorResult, Registry } from "../prometheus/registry.ts";
import { GaugeValue, mustNewConstMetric } from "../prometheus/value.ts";

/**
 * The default prefix of the exporter's own families (`ts_exporter_build_info`,
 * `ts_exporter_scrape_collector_*`). It sorts after the tutorial's `foo_metric`, so
 * the tutorial's six lines stay together in the output.
 */
export const defaultNamespace = "ts_exporter";

/** The names of the collectors `collect[]` and `--collector.<name>` apply to. */
export function selectableCollectors(registry: Registry): string[] {
  return registry.collectors().filter((c) => !isExporterMetrics(c.collector)).map((c) => c.name);
}

/**
 * Returns, for the collectors a gather ran, a collector sending node_exporter's
 * per-collector metrics `<namespace>_scrape_collector_duration_seconds` and
 * `<namespace>_scrape_collector_success`: the registry runs it after the others (its
 * `afterwards` option), so that its series are checked as every collector's. The
 * descriptors are built once, not on every scrape.
 */
export function scrapeCollectorMetrics(namespace: string): (results: readonly CollectorResult[]) => Collector {
  const durationDesc = newDesc(
    `${namespace}_scrape_collector_duration_seconds`,
    "Duration of a collector scrape.",
    ["collector"],
  );
  const successDesc = newDesc(`${namespace}_scrape_collector_success`, "Whether a collector succeeded.", ["collector"]);
  return (results) => ({
    name: "scrape_collector",
    describe(ch) {
      ch(durationDesc);
      ch(successDesc);
    },
    collect(ch) {
      for (const r of results) {
        if (isExporterMetrics(r.collector)) continue;
        ch(mustNewConstMetric(durationDesc, GaugeValue, r.durationSeconds, r.name));
        ch(mustNewConstMetric(successDesc, GaugeValue, r.success ? 1 : 0, r.name));
      }
    },
  });
}
