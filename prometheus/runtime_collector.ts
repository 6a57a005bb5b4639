import process from "node:process";
import { EventLoopDelaySampler } from "./_eventloop.ts";
import { memoryUsage } from "./_memory.ts";
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
 * costing microseconds: heap and external memory from `process.memoryUsage()`, read at
 * most once a second (a reading may be up to 1 s old), and event-loop delay since the
 * previous scrape (as prom-client, which resets its histogram on each scrape) from a
 * 10 ms timer. prom-client's heap-space, GC and
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
  readonly #lag: Desc[] = [];
  readonly #delay: EventLoopDelaySampler;

  constructor(opts: RuntimeCollectorOpts) {
    for (const s of lagStats) this.#lag.push(newDesc(`nodejs_eventloop_lag_${s}_seconds`, lagHelp[s]));
    this.#delay = new EventLoopDelaySampler(opts.eventLoopResolutionMs ?? 10);
  }

  describe(ch: (d: Desc) => void): void {
    for (const d of [this.#info, this.#heapTotal, this.#heapUsed, this.#external, ...this.#lag]) ch(d);
  }

  collect(ch: (m: Metric) => void): void {
    ch(mustNewConstMetric(this.#info, GaugeValue, 1));
    const mem = memoryUsage();
    ch(mustNewConstMetric(this.#heapTotal, GaugeValue, mem.heapTotal));
    ch(mustNewConstMetric(this.#heapUsed, GaugeValue, mem.heapUsed));
    ch(mustNewConstMetric(this.#external, GaugeValue, mem.external));
    const d = this.#delay.read();
    if (d) {
      for (let i = 0; i < lagStats.length; i++) {
        ch(mustNewConstMetric(this.#lag[i], GaugeValue, d[lagStats[i]]));
      }
    }
  }
}
