import { describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { newProcessCollector, type ProcessCollectorOpts } from "./process_collector.ts";
import { readingMaxAgeMs } from "./_procfs.ts";
import { Registry } from "./registry.ts";
import type { ValueMetric } from "./value.ts";

/** Gathers a process collector alone; returns each family's single value by name. */
async function processValues(opts?: ProcessCollectorOpts): Promise<Record<string, number>> {
  const r = new Registry();
  r.register(newProcessCollector(opts));
  const got = await r.gather();
  expect(got.errors.map((e) => e.message)).toEqual([]);
  const values: Record<string, number> = {};
  for (const f of got.families) {
    expect(f.metrics).toHaveLength(1);
    values[f.name] = (f.metrics[0] as ValueMetric).value;
  }
  return values;
}

describe("newProcessCollector", () => {
  const linux = process.platform === "linux";
  const onLinux = linux ? test : test.skip;
  if (!linux) console.warn(`skipping the /proc tests of the process collector: platform is ${process.platform}`);

  onLinux("reads plausible values from /proc on Linux", async () => {
    const v = await processValues();
    expect(Object.keys(v).sort()).toEqual([
      "process_cpu_seconds_total",
      "process_max_fds",
      "process_open_fds",
      "process_resident_memory_bytes",
      "process_start_time_seconds",
      "process_virtual_memory_bytes",
    ]);
    const now = Date.now() / 1000;
    const start = v.process_start_time_seconds;
    // This test process started moments ago. Allow a few seconds into the future:
    // /proc/stat's btime is whole seconds and the start time is in clock ticks.
    if (!(start > now - 3600 && start <= now + 5)) {
      throw new Error(`got process_start_time_seconds ${start}, want within the last hour of now (${now})`);
    }
    expect(v.process_resident_memory_bytes).toBeGreaterThan(0);
    expect(v.process_virtual_memory_bytes).toBeGreaterThanOrEqual(v.process_resident_memory_bytes);
    expect(v.process_open_fds).toBeGreaterThan(0);
    expect(v.process_max_fds).toBeGreaterThanOrEqual(v.process_open_fds);
    expect(v.process_cpu_seconds_total).toBeGreaterThan(0);
  });

  onLinux("agrees with /proc/self/stat, which client_golang reads", async () => {
    const v = await processValues();
    const stat = readFileSync("/proc/self/stat", "latin1");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
    // utime and stime are each rounded down to 10 ms ticks, so the runtime's figure (in
    // µs) may be up to two ticks above; it was read first, so it may also be below by
    // the CPU time spent between the two reads.
    const cpu = (f[11] + f[12]) / 100;
    if (!(v.process_cpu_seconds_total > cpu - 0.05 && v.process_cpu_seconds_total <= cpu + 0.0201)) {
      throw new Error(
        `got process_cpu_seconds_total ${v.process_cpu_seconds_total}, want about ${cpu} from /proc/self/stat`,
      );
    }
    // vsize (bytes) and rss (pages) of stat against statm's: equal but for what the
    // process mapped or touched between the two reads.
    expect(Math.abs(v.process_virtual_memory_bytes - f[20])).toBeLessThan(64 * 2 ** 20);
    expect(Math.abs(v.process_resident_memory_bytes - f[21] * 4096)).toBeLessThan(16 * 2 ** 20);
  });

  test("with an unreadable procDir what only /proc knows is left out, never 0", async () => {
    const v = await processValues({ procDir: "/nonexistent/proc/self" });
    // Virtual memory and file descriptors can only be read from /proc. Resident
    // memory and start time may come from the runtime instead, when they are real.
    for (const name of ["process_virtual_memory_bytes", "process_open_fds", "process_max_fds"]) {
      if (name in v) throw new Error(`got ${name} ${v[name]}, want it left out`);
    }
    expect(v.process_cpu_seconds_total).toBeGreaterThan(0);
    for (const [name, value] of Object.entries(v)) {
      if (!(value > 0)) throw new Error(`got ${name} ${value}, want a real value or none`);
    }
  });

  onLinux("the open-files limit is re-read at most once a second, then follows a change", async () => {
    const dir = mkdtempSync(join(tmpdir(), "proc-"));
    try {
      copyFileSync("/proc/self/stat", join(dir, "stat"));
      const limits = (n: number) =>
        `Limit                     Soft Limit           Hard Limit           Units     \nMax open files            ${n}                 ${n}                 files     \n`;
      writeFileSync(join(dir, "limits"), limits(1000));
      const r = new Registry();
      r.register(newProcessCollector({ procDir: dir }));
      const maxFds = async () => {
        const f = (await r.gather()).families.find((f) => f.name === "process_max_fds");
        return (f?.metrics[0] as ValueMetric | undefined)?.value;
      };
      expect(await maxFds()).toBe(1000);
      writeFileSync(join(dir, "limits"), limits(2000));
      expect(await maxFds()).toBe(1000); // within the second: the last read
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect(await maxFds()).toBe(2000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("one reading is served for readingMaxAgeMs, then read again, and again when the clock goes back", async () => {
    const dir = mkdtempSync(join(tmpdir(), "proc-"));
    const realNow = performance.now;
    let now = 1_000;
    performance.now = () => now;
    try {
      writeFileSync(join(dir, "stat"), readFileSync("/proc/self/stat"));
      writeFileSync(join(dir, "auxv"), new Uint8Array(16)); // AT_NULL: the page size defaults to 4 KiB
      const statm = (size: number, resident: number) =>
        writeFileSync(join(dir, "statm"), `${size} ${resident} 0 0 0 0 0\n`);
      const r = new Registry();
      r.register(newProcessCollector({ procDir: dir }));
      const gathered = async () => {
        const got = await r.gather();
        return got.families.map((f) => [f.name, (f.metrics[0] as ValueMetric).value] as const)
          .filter(([name]) => name.endsWith("_memory_bytes"));
      };
      const pages = (size: number, resident: number): (readonly [string, number])[] => [
        ["process_resident_memory_bytes", resident * 4096],
        ["process_virtual_memory_bytes", size * 4096],
      ];
      statm(100, 50);
      expect(await gathered()).toEqual(pages(100, 50));
      statm(200, 80);
      now += readingMaxAgeMs - 1;
      expect(await gathered()).toEqual(pages(100, 50)); // the first reading, still young enough
      now += 1;
      expect(await gathered()).toEqual(pages(200, 80));
      statm(300, 90);
      now -= 5;
      expect(await gathered()).toEqual(pages(300, 90)); // a clock that went back: read again
    } finally {
      performance.now = realNow;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("namespace prefixes every name", async () => {
    const v = await processValues({ namespace: "foo" });
    expect(Object.keys(v).length).toBeGreaterThan(0);
    for (const name of Object.keys(v)) expect(name).toMatch(/^foo_process_/);
  });

  test("describes all six metrics, so that it is a checked collector", () => {
    const names: string[] = [];
    newProcessCollector().describe((d) => names.push(d.fqName));
    expect(names.sort()).toEqual([
      "process_cpu_seconds_total",
      "process_max_fds",
      "process_open_fds",
      "process_resident_memory_bytes",
      "process_start_time_seconds",
      "process_virtual_memory_bytes",
    ]);
  });
});
