// The throw-away registry every helper collects through.
import { type Collector, type MetricFamily, Registry } from "../prometheus/mod.ts";

/**
 * Registers `collector` in a new Registry, gathers, and keeps the families named
 * in `names` (all when none are). Throws when registration fails or the gather
 * reports any error, with the registry's message, prefixed with the helper's name.
 *
 * @example
 * ```ts
 * const families = await gather("collectAndCount", newFooCollector(), ["foo_metric"]);
 * ```
 */
export async function gather(fn: string, collector: Collector, names: readonly string[]): Promise<MetricFamily[]> {
  const registry = new Registry();
  try {
    registry.register(collector);
  } catch (e) {
    throw new Error(`${fn}: registering collector failed: ${(e as Error).message}`, { cause: e });
  }
  const { families, errors } = await registry.gather();
  if (errors.length > 0) {
    throw new Error(`${fn}: gathering metrics failed: ${errors.map((e) => e.message).join("; ")}`, {
      cause: errors[0],
    });
  }
  return names.length === 0 ? families : families.filter((f) => names.includes(f.name));
}
