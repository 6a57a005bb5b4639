import process from "node:process";
import { memoryUsage } from "./_memory.ts";
import {
  auxvPageSize,
  fs,
  maxOpenFiles,
  numberFields,
  OpenFds,
  ProcFile,
  readingMaxAgeMs,
  statFields,
} from "./_procfs.ts";
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
 * maximum file descriptors. On Linux it reads `/proc`: statm, limits (once a second)
 * and the fd directory, kept open and re-read with one pread or fstat each, and stat
 * once for the start time; this process' CPU time comes from the runtime (getrusage);
 * a value that cannot be read is left out, never exported as 0. One reading serves
 * the scrapes of the next 10 ms (readingMaxAgeMs in _procfs.ts). Where /proc cannot be
 * read (Deno refuses it without --allow-all), resident memory comes from the runtime
 * and the start time from its time origin; virtual memory and file descriptors are
 * then left out.
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
  /** Whether procDir is this process' own, whose CPU time the runtime knows. */
  readonly #self: boolean;
  /** Kept open and re-read with one pread a scrape (stat: once, for this process). */
  readonly #stat: ProcFile;
  readonly #statm: ProcFile;
  readonly #limits: ProcFile;
  readonly #fds: OpenFds;
  #maxFdsValue: number | undefined;
  #maxFdsReadAt = -Infinity;
  /** The metrics of the latest reading, served again while younger than readingMaxAgeMs. */
  #reading: Metric[] = [];
  #readAt = -Infinity;

  constructor(opts: ProcessCollectorOpts) {
    const p = opts.namespace ? `${opts.namespace}_process_` : "process_";
    this.#proc = opts.procDir ?? "/proc/self";
    this.#self = this.#proc === "/proc/self";
    this.#stat = new ProcFile(`${this.#proc}/stat`, 1024);
    this.#statm = new ProcFile(`${this.#proc}/statm`, 256);
    this.#limits = new ProcFile(`${this.#proc}/limits`, 2048);
    this.#fds = new OpenFds(`${this.#proc}/fd`);
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
    const now = performance.now();
    if (now - this.#readAt >= readingMaxAgeMs || now < this.#readAt) {
      this.#reading = [];
      this.#read(now, (m) => this.#reading.push(m));
      this.#readAt = now;
    }
    for (const m of this.#reading) ch(m);
  }

  #read(now: number, ch: (m: Metric) => void): void {
    // This process' CPU time comes from getrusage (process.cpuUsage(), ~1 µs), the same
    // accounting /proc/self/stat's utime and stime are read from, in microseconds rather
    // than 10 ms ticks; a pread of stat costs 4–5 µs, as the kernel sums every thread's
    // times to write it. Another process' (procDir) is read from its stat.
    const stat = this.#self && this.#startTime !== null ? undefined : this.#stat.read();
    const f = stat && statFields(stat, 19);
    if (f && !this.#self) {
      // utime and stime, in clock ticks, as client_golang reads them; USER_HZ is 100.
      ch(mustNewConstMetric(this.#cpu, CounterValue, (f[11] + f[12]) / 100));
    } else {
      // Also where /proc is unreadable (Deno refuses it without --allow-all): what the
      // runtime itself knows is still true, and needs no permission.
      const cpu = process.cpuUsage();
      ch(mustNewConstMetric(this.#cpu, CounterValue, (cpu.user + cpu.system) / 1e6));
    }
    // statm holds the sizes stat holds, in pages, and costs a third as much to read.
    const statm = this.#statm.read();
    if (statm !== undefined) {
      const [size, resident] = numberFields(statm, 1);
      this.#pageSize ??= readPageSize(this.#proc);
      ch(mustNewConstMetric(this.#vsize, GaugeValue, size * this.#pageSize));
      ch(mustNewConstMetric(this.#rss, GaugeValue, resident * this.#pageSize));
    } else {
      ch(mustNewConstMetric(this.#rss, GaugeValue, memoryUsage().rss));
    }
    if (this.#startTime === null) {
      // The runtime's time origin is its start, a few milliseconds after the process'.
      this.#startTime = f ? startTime(f[19]) : performance.timeOrigin / 1000;
    }
    if (this.#startTime != null) ch(mustNewConstMetric(this.#start, GaugeValue, this.#startTime));
    // Not readable once (no permission, no /proc): not tried again, as a failed
    // attempt costs an exception on every scrape.
    const open = this.#fds.count();
    if (open !== undefined) ch(mustNewConstMetric(this.#openFds, GaugeValue, open));
    // The limit changes only when someone calls setrlimit: re-read at most once a
    // second, which spares a scrape a fifth of its system calls.
    if (now - this.#maxFdsReadAt >= maxFdsTtlMs || now < this.#maxFdsReadAt) {
      const limits = this.#limits.read();
      this.#maxFdsValue = limits && maxOpenFiles(limits);
      this.#maxFdsReadAt = now;
    }
    if (this.#maxFdsValue !== undefined) ch(mustNewConstMetric(this.#maxFds, GaugeValue, this.#maxFdsValue));
  }
}

/** How long a read of the open-files limit is reused. */
const maxFdsTtlMs = 1_000;

function readOrUndefined(path: string): string | undefined {
  try {
    return fs().readFileSync(path, "latin1");
  } catch {
    return undefined;
  }
}

/** Linux reports start time in clock ticks since boot; USER_HZ is 100 on every Linux ABI. */
function startTime(ticks: number): number | undefined {
  const btime = readOrUndefined("/proc/stat")?.match(/^btime (\d+)$/m);
  return btime ? Number(btime[1]) + ticks / 100 : undefined;
}

/**
 * The kernel page size: AT_PAGESZ from auxv, else the first mapping's in smaps; 4 KiB
 * when neither can be read. auxv first, as generating even the first 4 KiB of smaps
 * walks the page tables of the process' first mapping: 0.5 ms of a compiled Bun
 * binary's first scrape (its 25 MB of read-only data), against microseconds for auxv.
 */
function readPageSize(proc: string): number {
  try {
    const size = auxvPageSize(readStart(`${proc}/auxv`, 1024));
    if (size !== undefined) return size;
  } catch { /* ask smaps */ }
  try {
    const m = new TextDecoder().decode(readStart(`${proc}/smaps`, 4096)).match(/KernelPageSize:\s+(\d+) kB/);
    if (m) return Number(m[1]) * 1024;
  } catch { /* fall through */ }
  return 4096;
}

/** The first `size` bytes of a file, or fewer; throws when it cannot be read. */
function readStart(path: string, size: number): Uint8Array {
  const fd = fs().openSync(path, "r");
  try {
    const buf = new Uint8Array(size);
    return buf.subarray(0, fs().readSync(fd, buf, 0, size, null));
  } finally {
    fs().closeSync(fd);
  }
}
