import { type Collector, markExporterMetrics } from "./collector.ts";
import { newProcessCollector } from "./process_collector.ts";
import { Registry } from "./registry.ts";
import { newRuntimeCollector } from "./runtime_collector.ts";

/** The collectors the default registry starts with: process and runtime metrics. */
export const defaultCollectors: readonly Collector[] = [
  markExporterMetrics(newProcessCollector()),
  markExporterMetrics(newRuntimeCollector()),
];

/**
 * The default registry, as Go's `prometheus.DefaultRegisterer`: it holds the process
 * and runtime collectors and whatever is registered with the module-level functions.
 */
export const defaultRegistry: Registry = new Registry();
defaultRegistry.mustRegister(...defaultCollectors);

/** Registers a collector with the default registry; see {@linkcode Registry.register}. */
export function register(c: Collector): void {
  defaultRegistry.register(c);
}

/**
 * Registers collectors with the default registry and throws on the first failure,
 * as Go's `prometheus.MustRegister`.
 *
 * @example
 * ```ts
 * mustRegister(newFooCollector());
 * ```
 */
export function mustRegister(...cs: Collector[]): void {
  defaultRegistry.mustRegister(...cs);
}

/** Unregisters a collector from the default registry. */
export function unregister(c: Collector): boolean {
  return defaultRegistry.unregister(c);
}
