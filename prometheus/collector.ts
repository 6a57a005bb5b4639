import type { Desc } from "./desc.ts";
import type { Metric } from "./value.ts";

/**
 * A Collector produces metrics on demand, as Go's `prometheus.Collector`. Register it
 * with {@linkcode Registry.register} or the module-level `mustRegister`.
 *
 * `ch(x)` plays the part of Go's `ch <- x`.
 *
 * @example
 * ```ts
 * class FooCollector implements Collector {
 *   readonly name = "foo";
 *   fooDesc = newDesc("foo_metric", "Shows whether a foo has occurred in our cluster");
 *   describe(ch: (d: Desc) => void) { ch(this.fooDesc); }
 *   collect(ch: (m: Metric) => void) { ch(mustNewConstMetric(this.fooDesc, CounterValue, 1)); }
 * }
 * ```
 */
export interface Collector {
  /**
   * Sends every Desc this collector can ever emit, and is called once, at
   * registration. It must send the same descriptors every time and must not block.
   * A collector that sends none is "unchecked": the registry then cannot verify its
   * output against descriptors at registration, only at gather time.
   */
  describe(ch: (desc: Desc) => void): void;
  /**
   * Sends the current metrics. Called on every scrape; the registry never runs
   * one collector's `collect` twice at the same time when scrapes are coalesced by
   * the HTTP handler, but different collectors run concurrently.
   *
   * It may be synchronous or return a Promise. If it throws or rejects, everything it
   * sent in this call is discarded and the failure is reported against it. `signal`
   * aborts when the scrape's deadline passes: stop work then, since anything sent
   * after it is discarded.
   */
  collect(ch: (metric: Metric) => void, signal: AbortSignal): void | Promise<void>;
  /**
   * The collector's name: its `--collector.<name>` flag, its `collector` label in
   * `<namespace>_scrape_collector_*`, `collect[]` and log lines. Registration refuses a
   * collector without one (a class name is no substitute: minification renames
   * classes) or with the name of one registered already, naming both. Letters,
   * digits, `_`, `.` and `-`. Optional in the type only so that code written against
   * earlier versions still compiles; every registry requires it.
   */
  readonly name?: string;
  /**
   * An optional deadline for one `collect`, in milliseconds. The scrape's own
   * deadline still applies when it is shorter.
   */
  readonly timeoutMs?: number;
}

/**
 * The name used for a collector in errors and logs: its own, else its class's (only
 * good enough for a message: registration refuses a collector without a name).
 */
export function collectorName(c: Pick<Collector, "name">): string {
  if (typeof c.name === "string" && c.name !== "") return c.name;
  const ctor = (c as { constructor?: { name?: string } }).constructor?.name;
  return ctor && ctor !== "Object" ? ctor : "collector";
}

const exporterMetrics = new WeakSet<Collector>();

/**
 * Marks a collector as describing the exporter itself (process, runtime, the HTTP
 * handler) rather than the system it exports. Such collectors are always gathered:
 * `collect[]` and `--collector.<name>` do not apply to them, they get no
 * `*_scrape_collector_*` metrics, and `--web.disable-exporter-metrics` removes them.
 */
export function markExporterMetrics<C extends Collector>(c: C): C {
  exporterMetrics.add(c);
  return c;
}

/** Reports whether {@linkcode markExporterMetrics} marked `c`. */
export function isExporterMetrics(c: Collector): boolean {
  return exporterMetrics.has(c);
}

// Instances, or the prototype of a class all of whose instances are metrics with state.
const withState = new WeakSet<object>();

/**
 * Marks a metric with state (a Counter, Gauge, Histogram, Summary, func metric or one
 * of their Vecs): part of what the program itself exposes, as in client_golang, not
 * a collector an operator selects. It is always gathered: `collect[]` and
 * `--collector.<name>` do not apply to it and it gets no `*_scrape_collector_*`
 * metrics; `--web.disable-exporter-metrics` leaves it in place.
 */
export function markMetricWithState<C extends Collector>(c: C): C {
  withState.add(c);
  return c;
}

function hasState(c: Collector): boolean {
  return withState.has(c) || withState.has(Object.getPrototypeOf(c));
}

/**
 * Reports whether `c` is a collector an operator selects: `--collector.<name>`,
 * `collect[]` and `*_scrape_collector_*` apply to it. The exporter's own metrics
 * ({@linkcode markExporterMetrics}) and metrics with state are not.
 */
export function isSelectable(c: Collector): boolean {
  return !exporterMetrics.has(c) && !hasState(c);
}

/** Gives a collector that wraps `inner` the marks `inner` has. */
export function copyMarks(inner: Collector, wrapper: Collector): void {
  if (exporterMetrics.has(inner)) exporterMetrics.add(wrapper);
  if (hasState(inner)) withState.add(wrapper);
}
