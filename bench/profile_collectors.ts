// The default collectors' fixed cost, in one process: what a scrape pays for each
// collector's collect and for each system call or runtime call inside it. Prints one
// line per item, µs per call, median of 7 rounds of 2,000 calls after a warm-up round.
// Each call runs in its own microtask turn, as each scrape does. The runtime collector's
// collect serves a process.memoryUsage() reading up to a second old
// (prometheus/_memory.ts), and the process collector's one reading of getrusage, statm
// and the fd count for the next 10 ms (prometheus/_procfs.ts), so at these rates both
// time the reused path; the calls themselves are listed on their own lines, which is
// what a scrape pays when it is the first in its second or its 10 ms. The
// event-loop sampler's
// read is left out: its cost depends on how many 10 ms samples piled up since the last
// scrape, which a tight loop cannot reproduce.
//   bun bench/profile_collectors.ts
//   deno run -A bench/profile_collectors.ts
import process from "node:process";
import { newProcessCollector } from "../prometheus/process_collector.ts";
import { newRuntimeCollector } from "../prometheus/runtime_collector.ts";
import { fstatSync, openSync, readSync } from "node:fs";
import type { Metric } from "../prometheus/value.ts";

const calls = 2_000, rounds = 7;
const sink: Metric[] = [];
const ch = (m: Metric) => void sink.push(m);

async function perCall(fn: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r <= rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) {
      fn();
      await null;
    }
    if (r > 0) times.push(((performance.now() - t0) * 1000) / calls);
    sink.length = 0;
  }
  return times.sort((a, b) => a - b)[rounds >> 1];
}

const signal = new AbortController().signal;
const processCollector = newProcessCollector();
const runtimeCollector = newRuntimeCollector();
// The system calls the process collector makes, made here directly (its helpers are
// private to prometheus/): a pread of a file kept open, an fstat of the fd directory.
const buf = new Uint8Array(1024);
const statm = openSync("/proc/self/statm", "r"), stat = openSync("/proc/self/stat", "r");
const fdDir = openSync("/proc/self/fd", "r");

const items: [string, () => unknown][] = [
  ["process collector, collect", () => processCollector.collect(ch, signal)],
  ["runtime collector, collect", () => runtimeCollector.collect(ch, signal)],
  ["pread of a kept-open /proc/self/statm (rss, vsize)", () => readSync(statm, buf, 0, buf.length, 0)],
  ["pread of /proc/self/stat (read once, at the first scrape)", () => readSync(stat, buf, 0, buf.length, 0)],
  ["fstat of a kept-open /proc/self/fd (open fds)", () => fstatSync(fdDir).size],
  ["process.memoryUsage() (once a second at most)", () => process.memoryUsage()],
  ["process.cpuUsage() (CPU time)", () => process.cpuUsage()],
  ["an empty microtask turn (the harness' own cost)", () => {}],
];
const out: string[] = [];
for (const [name, fn] of items) out.push(`${name} ${(await perCall(fn)).toFixed(1)} µs`);
console.log(out.join("\n"));
process.exit(0);
