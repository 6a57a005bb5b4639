import process from "node:process";
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import type { Collector } from "./collector.ts";
import { type Desc, newDesc } from "./desc.ts";
import { GaugeValue, type Metric, mustNewConstMetric } from "./value.ts";

/** The JavaScript runtime this process runs on, and its own version. */
export function runtimeInfo(): { runtime: string; version: string } {
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
  if (g.Bun) return { runtime: "bun", version: g.Bun.version };
  if (g.Deno) return { runtime: "deno", version: g.Deno.version.deno };
  return { runtime: "node", version: process.versions.node };
}

/** Options for {@linkcode newRuntimeCollector}. */
export interface RuntimeCollectorOpts {
  /** Event-loop delay sampling interval in milliseconds (prom-client's default: 10). */
  readonly eventLoopResolutionMs?: number;
}

/**
 * Returns a collector of runtime metrics under prom-client's `nodejs_*` names, so
 * that Node.js dashboards keep working, plus `js_runtime_info` naming the real
 * runtime and version. Only values that are true on Bun and Deno are exported, each
 * costing microseconds: heap and external memory from `process.memoryUsage()` and
 * event-loop delay from `monitorEventLoopDelay()`. prom-client's heap-space, GC and
 * handle metrics are left out: on Bun they cost ~10 ms a call or never get values,
 * and `nodejs_version_info` would report the Node version the runtime emulates.
 */
export function newRuntimeCollector(opts: RuntimeCollectorOpts = {}): Collector {
  return new RuntimeCollector(opts);
}

const lagStats = ["min", "max", "mean", "stddev", "p50", "p90", "p99"] as const;
const lagHelp: Record<(typeof lagStats)[number], string> = {
  min: "The minimum recorded event loop delay.",
  max: "The maximum recorded event loop delay.",
  mean: "The mean of the recorded event loop delays.",
  stddev: "The standard deviation of the recorded event loop delays.",
  p50: "The 50th percentile of the recorded event loop delays.",
  p90: "The 90th percentile of the recorded event loop delays.",
  p99: "The 99th percentile of the recorded event loop delays.",
};

class RuntimeCollector implements Collector {
  readonly name = "runtime";
  readonly #info = newDesc("js_runtime_info", "The JavaScript runtime and its version.", null, runtimeInfo());
  readonly #heapTotal = newDesc("nodejs_heap_size_total_bytes", "Process heap size from the runtime in bytes.");
  readonly #heapUsed = newDesc("nodejs_heap_size_used_bytes", "Process heap size used from the runtime in bytes.");
  readonly #external = newDesc("nodejs_external_memory_bytes", "Runtime external memory size in bytes.");
  readonly #lag = lagStats.map((s) => newDesc(`nodejs_eventloop_lag_${s}_seconds`, lagHelp[s]));
  #histogram: IntervalHistogram | undefined;

  constructor(opts: RuntimeCollectorOpts) {
    try {
      this.#histogram = monitorEventLoopDelay({ resolution: opts.eventLoopResolutionMs ?? 10 });
      this.#histogram.enable();
    } catch {
      this.#histogram = undefined; // not offered by this runtime: leave the lag metrics out
    }
  }

  describe(ch: (d: Desc) => void): void {
    for (const d of [this.#info, this.#heapTotal, this.#heapUsed, this.#external, ...this.#lag]) ch(d);
  }

  collect(ch: (m: Metric) => void): void {
    ch(mustNewConstMetric(this.#info, GaugeValue, 1));
    const mem = process.memoryUsage();
    ch(mustNewConstMetric(this.#heapTotal, GaugeValue, mem.heapTotal));
    ch(mustNewConstMetric(this.#heapUsed, GaugeValue, mem.heapUsed));
    ch(mustNewConstMetric(this.#external, GaugeValue, mem.external));
    const h = this.#histogram;
    if (h && h.count > 0) {
      // The histogram records nanoseconds; prom-client exports seconds.
      const values = [h.min, h.max, h.mean, h.stddev, h.percentile(50), h.percentile(90), h.percentile(99)];
      values.forEach((v, i) => ch(mustNewConstMetric(this.#lag[i], GaugeValue, v / 1e9)));
    }
  }
}
