// Two or more builds of the exporter compared on start-up, idle memory and CPU per
// scrape, interleaved: every round runs each build in turn, so that a burst of load
// elsewhere on the machine hits every build alike (BENCH_STEPS of bench/run.ts compares
// builds run after one another, which a shared machine's drift can fake). Prints the
// median and the spread (min–max) of each figure per build, hello_serve's as the baseline.
//   bun bench/ab.ts [--rounds=N] [--steps=startup,idle,cpu] [--cpu-seconds=S] NAME=CMD ...
// CMD is a compiled binary (./exporter) or a command line with spaces ("deno run -A main.ts");
// the harness appends --web.listen-address, --version or --healthcheck to it.
import process from "node:process";
import { chmodSync, copyFileSync, existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { median, wrk } from "./_load.ts";
import { freePort, memory, rssSplit, run, scratch, sleep, start, stop, stopAll, waitFor200 } from "./_proc.ts";

const opts = new Map<string, string>();
const builds: { name: string; cmd: string[] }[] = [];
for (const a of process.argv.slice(2)) {
  const o = a.match(/^--([a-z-]+)=(.*)$/);
  if (o) opts.set(o[1], o[2]);
  else {
    const eq = a.indexOf("=");
    if (eq < 1) throw new Error(`bench/ab.ts: ${JSON.stringify(a)} is not NAME=CMD`);
    builds.push({ name: a.slice(0, eq), cmd: a.slice(eq + 1).split(" ").filter(Boolean) });
  }
}
if (builds.length === 0) throw new Error("usage: bun bench/ab.ts [--rounds=N] [--steps=…] NAME=CMD …");
const rounds = Number(opts.get("rounds") ?? 7);
const steps = new Set((opts.get("steps") ?? "startup,idle,cpu").split(","));
const cpuSeconds = Number(opts.get("cpu-seconds") ?? 4);
const HELLO_SERVE = `${scratch}/hello_serve`;
const MiB = 2 ** 20;

/** Figures per build and per measure, one value per round. */
const results = new Map<string, Map<string, number[]>>();
function record(build: string, what: string, x: number): void {
  if (!results.has(build)) results.set(build, new Map());
  const m = results.get(build)!;
  if (!m.has(what)) m.set(what, []);
  m.get(what)!.push(x);
}

const listen = (cmd: string[], port: number) => [...cmd, `--web.listen-address=127.0.0.1:${port}`];

/**
 * A fresh copy of an executable, made at the start of each round and run instead of it.
 * A page fault maps the cached pages around the faulting one too, as many as the
 * page-cache folio they sit in allows, so a binary's file-backed RSS depends on how
 * its pages came into the cache: measured, the same binary showed 37.0 MiB idle when
 * it had sat on disk for an hour of other builds and 42.2 MiB as a fresh copy. `make
 * bench` builds every binary just before it runs, so all are fresh copies there.
 */
const copies = new Set<string>();
function freshCopy(path: string, name: string): string {
  if (!existsSync(path) || !statSync(path).isFile()) return path; // a command such as deno: as it is
  const copy = `${scratch}/ab-${name}`;
  copies.add(copy);
  copyFileSync(path, copy);
  chmodSync(copy, 0o755);
  return copy;
}

/** Page faults so far (minflt, majflt) and CPU seconds, from /proc/PID/stat. */
function stat(pid: number): { minflt: number; majflt: number; cpu: number } {
  const s = readFileSync(`/proc/${pid}/stat`, "latin1");
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  // proc(5): minflt is field 10, majflt 12, utime 14, stime 15 (from 1; f[0] is field 3).
  return { minflt: Number(f[7]), majflt: Number(f[9]), cpu: (Number(f[11]) + Number(f[12])) / 100 };
}

async function startup(name: string, cmd: string[], path: string, healthTarget?: number): Promise<void> {
  const port = freePort();
  const t0 = performance.now();
  const child = start(`ab-${name}`, name === "hello_serve" ? [...cmd, String(port)] : listen(cmd, port));
  try {
    record(name, "first 200 (ms)", await waitFor200(`http://127.0.0.1:${port}${path}`, child, 20_000, t0));
  } finally {
    await stop(child);
  }
  if (healthTarget === undefined) return;
  let t = performance.now();
  await run([...cmd, "--version"], 20_000);
  record(name, "--version (ms)", performance.now() - t);
  t = performance.now();
  await run([...cmd, "--healthcheck", `--web.listen-address=127.0.0.1:${healthTarget}`], 20_000);
  record(name, "--healthcheck (ms)", performance.now() - t);
}

async function idle(name: string, cmd: string[], path: string): Promise<void> {
  const port = freePort();
  const child = start(`ab-${name}`, name === "hello_serve" ? [...cmd, String(port)] : listen(cmd, port));
  try {
    const base = `http://127.0.0.1:${port}`;
    if (path !== "/") {
      await waitFor200(`${base}/-/healthy`, child, 20_000);
      await sleep(300);
      record(name, "RSS listening (MiB)", memory(child.pid).rss / MiB);
    }
    await waitFor200(`${base}${path}`, child, 20_000);
    await sleep(500);
    const s = rssSplit(child.pid), f = stat(child.pid);
    record(name, "RSS after 1st scrape (MiB)", s.rss / MiB);
    record(name, " anon (MiB)", s.anon / MiB);
    record(name, " file-backed (MiB)", s.file / MiB);
    record(name, " minflt", f.minflt);
    record(name, " majflt", f.majflt);
  } finally {
    await stop(child);
  }
}

async function cpu(name: string, cmd: string[]): Promise<void> {
  const port = freePort();
  const child = start(`ab-${name}`, listen(cmd, port));
  try {
    const url = `http://127.0.0.1:${port}/metrics`;
    await waitFor200(url, child, 60_000);
    await wrk(url, { threads: 1, connections: 4, seconds: 1 });
    const before = stat(child.pid).cpu;
    const r = await wrk(url, { threads: 1, connections: 4, seconds: cpuSeconds });
    const used = stat(child.pid).cpu - before;
    if (r.errors > 0 || r.requests === 0) throw new Error(`${name}: ${r.errors} errors in ${r.requests} scrapes`);
    record(name, "CPU/scrape (µs)", (used * 1e6) / r.requests);
    record(name, "scrapes/s", r.requestsPerSec);
  } finally {
    await stop(child);
  }
}

const watchdog = setTimeout(async () => {
  console.error("bench/ab.ts: 20 minutes passed; stopping");
  await stopAll();
  process.exit(1);
}, 20 * 60_000);
try {
  // --healthcheck asks a server of the first build: the server's side is not what is compared.
  const port = freePort();
  const target = start("ab-healthcheck-target", listen(builds[0].cmd, port));
  await waitFor200(`http://127.0.0.1:${port}/-/healthy`, target, 60_000);
  try {
    for (let i = 0; i < rounds; i++) {
      // The order rotates each round, so that no build always runs right after another.
      const order = builds.map((_, j) => builds[(i + j) % builds.length])
        .map((b) => ({ name: b.name, cmd: [freshCopy(b.cmd[0], b.name), ...b.cmd.slice(1)] }));
      const hello = freshCopy(HELLO_SERVE, "hello_serve");
      if (steps.has("startup")) {
        await startup("hello_serve", [hello], "/");
        for (const b of order) await startup(b.name, b.cmd, "/metrics", port);
      }
      if (steps.has("idle")) {
        await idle("hello_serve", [hello], "/");
        for (const b of order) await idle(b.name, b.cmd, "/metrics");
      }
      if (steps.has("cpu")) { for (const b of order) await cpu(b.name, b.cmd); }
      console.error(`round ${i + 1}/${rounds} done`);
    }
  } finally {
    await stop(target);
  }
} finally {
  clearTimeout(watchdog);
  await stopAll();
  for (const c of copies) rmSync(c, { force: true });
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(1));
const measures = [...new Set([...results.values()].flatMap((m) => [...m.keys()]))];
console.log(`| measure | ${[...results.keys()].join(" | ")} |`);
console.log(`| --- |${" ---: |".repeat(results.size)}`);
for (const what of measures) {
  const cells = [...results.values()].map((m) => {
    const xs = m.get(what);
    return xs ? `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : "";
  });
  console.log(`| ${what} | ${cells.join(" | ")} |`);
}
console.log(`\nmedian (min–max) of ${rounds} interleaved rounds; CPU under wrk -t1 -c4 -d${cpuSeconds}s after 1 s`);
