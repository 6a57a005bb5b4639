import { openSync, readdirSync, readFileSync, readSync, closeSync } from "node:fs";
import process from "node:process";
import type { Collector } from "./collector.ts";
import { type Desc, newDesc } from "./desc.ts";
import { CounterValue, GaugeValue, type Metric, mustNewConstMetric } from "./value.ts";

/** Options for {@linkcode newProcessCollector}. */
export interface ProcessCollectorOpts {
  /** Prefix for the metric names; empty gives `process_…`, "foo" gives `foo_process_…`. */
  readonly namespace?: string;
  /** Where to read the process' files from; defaults to `/proc/self`. */
  readonly procDir?: string;
}

/**
 * Returns a collector of the standard process metrics, named as client_golang's
 * process collector: CPU time, resident and virtual memory, start time, open and
 * maximum file descriptors. On Linux it reads `/proc` (three small files a scrape);
 * a value that cannot be read, say without read permission on Deno, is left out,
 * never exported as 0.
 */
export function newProcessCollector(opts: ProcessCollectorOpts = {}): Collector {
  return new ProcessCollector(opts);
}

class ProcessCollector implements Collector {
  readonly name = "process";
  readonly #proc: string;
  readonly #cpu: Desc;
  readonly #rss: Desc;
  readonly #vsize: Desc;
  readonly #start: Desc;
  readonly #openFds: Desc;
  readonly #maxFds: Desc;
  /** Start time and page size cannot change while the process runs: read once. */
  #startTime: number | undefined | null = null;
  #pageSize: number | null = null;

  constructor(opts: ProcessCollectorOpts) {
    const p = opts.namespace ? `${opts.namespace}_process_` : "process_";
    this.#proc = opts.procDir ?? "/proc/self";
    this.#cpu = newDesc(p + "cpu_seconds_total", "Total user and system CPU time spent in seconds.");
    this.#rss = newDesc(p + "resident_memory_bytes", "Resident memory size in bytes.");
    this.#vsize = newDesc(p + "virtual_memory_bytes", "Virtual memory size in bytes.");
    this.#start = newDesc(p + "start_time_seconds", "Start time of the process since unix epoch in seconds.");
    this.#openFds = newDesc(p + "open_fds", "Number of open file descriptors.");
    this.#maxFds = newDesc(p + "max_fds", "Maximum number of open file descriptors.");
  }

  describe(ch: (d: Desc) => void): void {
    for (const d of [this.#cpu, this.#rss, this.#vsize, this.#start, this.#openFds, this.#maxFds]) ch(d);
  }

  collect(ch: (m: Metric) => void): void {
    // process.cpuUsage() is a single getrusage call with microsecond resolution,
    // finer than /proc's clock ticks, and is real on both runtimes.
    const cpu = process.cpuUsage();
    ch(mustNewConstMetric(this.#cpu, CounterValue, (cpu.user + cpu.system) / 1e6));

    const stat = readOrUndefined(`${this.#proc}/stat`);
    if (stat !== undefined) {
      // Fields after the command name, which is in parentheses and may hold spaces:
      // index 0 is field 3 (state) of proc(5).
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const pageSize = this.#pageSize ??= readPageSize(this.#proc);
      ch(mustNewConstMetric(this.#vsize, GaugeValue, Number(f[20])));
      ch(mustNewConstMetric(this.#rss, GaugeValue, Number(f[21]) * pageSize));
      if (this.#startTime === null) this.#startTime = startTime(Number(f[19]));
      if (this.#startTime !== undefined) ch(mustNewConstMetric(this.#start, GaugeValue, this.#startTime));
    }
    try {
      ch(mustNewConstMetric(this.#openFds, GaugeValue, readdirSync(`${this.#proc}/fd`).length));
    } catch { /* not readable here: leave it out */ }
    const limits = readOrUndefined(`${this.#proc}/limits`);
    const m = limits?.match(/^Max open files\s+(\S+)/m);
    if (m) ch(mustNewConstMetric(this.#maxFds, GaugeValue, m[1] === "unlimited" ? Infinity : Number(m[1])));
  }
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, "latin1");
  } catch {
    return undefined;
  }
}

/** Linux reports start time in clock ticks since boot; USER_HZ is 100 on every Linux ABI. */
function startTime(ticks: number): number | undefined {
  const btime = readOrUndefined("/proc/stat")?.match(/^btime (\d+)$/m);
  return btime ? Number(btime[1]) + ticks / 100 : undefined;
}

/** The kernel page size, from the first mapping in smaps; 4 KiB when unreadable. */
function readPageSize(proc: string): number {
  try {
    const fd = openSync(`${proc}/smaps`, "r");
    try {
      const buf = new Uint8Array(4096);
      const n = readSync(fd, buf, 0, buf.length, null);
      const m = new TextDecoder().decode(buf.subarray(0, n)).match(/KernelPageSize:\s+(\d+) kB/);
      if (m) return Number(m[1]) * 1024;
    } finally {
      closeSync(fd);
    }
  } catch { /* fall through */ }
  return 4096;
}
