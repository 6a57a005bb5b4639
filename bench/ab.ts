// Two or more builds of the exporter compared on start-up, idle memory and CPU per
// scrape, interleaved: every round runs each build in turn, so that a burst of load
// elsewhere on the machine hits every build alike (BENCH_STEPS of bench/run.ts compares
// builds run after one another, which a shared machine's drift can fake). Prints the
// median and the spread (min–max) of each figure per build, hello_serve's as the baseline.
//   bun bench/ab.ts [--rounds=N] [--steps=startup,idle,cpu] [--cpu-seconds=S] NAME=CMD ...
// CMD is a compiled binary (./exporter) or a command line with spaces ("deno run -A main.ts");
// the harness appends --web.listen-address, --version or --healthcheck to it.
import { wrk } from "./_load.ts";
import { freePort, memory, procStat as stat, rssSplit, run, scratch, sleep, start, stop, waitFor200 } from "./_proc.ts";
import { freshCopy, parseArgs, Results, withWatchdog } from "./_ab.ts";

const { opts, builds } = parseArgs("bench/ab.ts");
const rounds = Number(opts.get("rounds") ?? 7);
const steps = new Set((opts.get("steps") ?? "startup,idle,cpu").split(","));
const cpuSeconds = Number(opts.get("cpu-seconds") ?? 4);
const HELLO_SERVE = `${scratch}/hello_serve`;
const MiB = 2 ** 20;

const results = new Results();
const record = (build: string, what: string, x: number) => results.record(build, what, x);

const listen = (cmd: string[], port: number) => [...cmd, `--web.listen-address=127.0.0.1:${port}`];

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

await withWatchdog("bench/ab.ts", async () => {
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
});

results.print(`median (min–max) of ${rounds} interleaved rounds; CPU under wrk -t1 -c4 -d${cpuSeconds}s after 1 s`);
