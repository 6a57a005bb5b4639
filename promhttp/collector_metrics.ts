import { isExporterMetrics } from "../prometheus/collector.ts";
import { type Desc, newDesc } from "../prometheus/desc.ts";
import type { CollectorResult, MetricFamily, Registry } from "../prometheus/registry.ts";
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
 * Returns a function building node_exporter's per-collector families,
 * `<namespace>_scrape_collector_duration_seconds` and
 * `<namespace>_scrape_collector_success`, for the collectors a gather ran. The
 * descriptors are built once, not on every scrape.
 */
export function scrapeCollectorFamilies(namespace: string): (results: readonly CollectorResult[]) => MetricFamily[] {
  const durationDesc = newDesc(
    `${namespace}_scrape_collector_duration_seconds`,
    "Duration of a collector scrape.",
    ["collector"],
  );
  const successDesc = newDesc(`${namespace}_scrape_collector_success`, "Whether a collector succeeded.", ["collector"]);
  const family = (desc: Desc, own: CollectorResult[], value: (r: CollectorResult) => number): MetricFamily => ({
    name: desc.fqName,
    help: desc.help,
    type: "gauge",
    desc,
    metrics: own.map((r) => mustNewConstMetric(desc, GaugeValue, value(r), r.name)),
  });
  return (results) => {
    const own = results.filter((r) => !isExporterMetrics(r.collector));
    if (own.length === 0) return [];
    own.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return [family(durationDesc, own, (r) => r.durationSeconds), family(successDesc, own, (r) => (r.success ? 1 : 0))];
  };
}

/**
 * Adds `extra` to sorted `families`, keeping the order; an extra family whose name
 * is taken already is returned in `clashes` instead of being added.
 */
export function mergeFamilies(
  families: readonly MetricFamily[],
  extra: readonly MetricFamily[],
): { families: MetricFamily[]; clashes: string[] } {
  if (extra.length === 0) return { families: [...families], clashes: [] };
  const names = new Set(families.map((f) => f.name));
  const clashes = extra.filter((f) => names.has(f.name)).map((f) => f.name);
  const merged = [...families, ...extra.filter((f) => !names.has(f.name))];
  merged.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { families: merged, clashes };
}
