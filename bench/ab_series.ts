// Two or more builds of bench/series_server.ts compared on make bench's scale step,
// interleaved: every round runs each build in turn (the order rotating), so that a
// burst of load elsewhere on the shared machine hits every build alike. Per round and
// build, as bench/run.ts measures it: 3 warm-up scrapes, then 20 sequential curl
// scrapes on one kept-alive connection at 10,000 and at 100,000 series (identity; at
// 100k also 20 gzipped), the peak VmRSS sampled every 50 ms at 100k, the RSS split at
// its end, and the server's CPU time (utime + stime) per identity scrape. Prints the
// median and spread (min–max) over the rounds of each figure, and of the slope
// (marginal cost per series) computed within each round. With --steps=protobuf (or
// scale,protobuf), also make bench's protobuf step: 100,000 gauges, classic and native
// histograms, scraped with Prometheus' protobuf-first Accept (1 warm-up, then 10
// scrapes, 7 for histograms).
//   bun bench/ab_series.ts [--rounds=N] [--steps=scale,protobuf] NAME=path/to/series_server ...
// Build each with the Makefile's BUILD_FLAGS (`make bench` does: .bench/series_server).
import { curlSequence, median } from "./_load.ts";
import { freePort, procStat, rssSplit, samplePeakRss, start, stop, waitFor200 } from "./_proc.ts";
import { freshCopy, parseArgs, Results, withWatchdog } from "./_ab.ts";

const { opts, builds } = parseArgs("bench/ab_series.ts");
const rounds = Number(opts.get("rounds") ?? 5);
const steps = new Set((opts.get("steps") ?? "scale").split(","));
const MiB = 2 ** 20;

const results = new Results();
const record = (build: string, what: string, x: number) => results.record(build, what, x);
const cpuSeconds = (pid: number) => procStat(pid).cpu;

/** One server of `series` series; returns the median identity scrape in ms. */
async function scale(name: string, path: string, series: number): Promise<number> {
  const port = freePort();
  const child = start(`ab-series-${name}-${series}`, [
    path,
    "--series",
    String(series),
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  const sampler = samplePeakRss(child.pid);
  try {
    const url = `http://127.0.0.1:${port}/metrics`;
    await waitFor200(`http://127.0.0.1:${port}/-/healthy`, child, 60_000);
    await curlSequence(url, 3, { gzip: false, maxSeconds: 30 });
    const cpu0 = cpuSeconds(child.pid);
    const id = await curlSequence(url, 20, { gzip: false, maxSeconds: 30 });
    const cpu = (cpuSeconds(child.pid) - cpu0) / id.length;
    for (const t of id) if (t.code !== 200) throw new Error(`${name}: scrape answered ${t.code}`);
    const identity = median(id.map((t) => t.ms));
    const k = `${series / 1000}k`;
    record(name, `${k} identity (ms)`, identity);
    record(name, `${k} CPU/scrape (ms)`, cpu * 1000);
    if (series >= 100_000) {
      const gz = await curlSequence(url, 20, { gzip: true, maxSeconds: 30 });
      record(name, `${k} gzip (ms)`, median(gz.map((t) => t.ms)));
      const s = rssSplit(child.pid);
      record(name, `${k} peak RSS (MiB)`, sampler.stop() / MiB);
      record(name, `${k} anon at end (MiB)`, s.anon / MiB);
      record(name, `${k} file-backed at end (MiB)`, s.file / MiB);
    }
    return identity;
  } finally {
    sampler.stop();
    await stop(child);
  }
}

/** What Prometheus sends with native histograms on (as bench/run.ts): delimited protobuf first. */
const protobufAccept =
  "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7," +
  "text/plain;version=0.0.4;q=0.3";

const protobufCases = [
  { key: "protobuf 100k gauges (ms)", args: ["--series", "100000"], scrapes: 10 },
  { key: "protobuf 100k classic histograms (ms)", args: ["--histograms", "100000"], scrapes: 7 },
  { key: "protobuf 100k native histograms (ms)", args: ["--histograms", "100000", "--native"], scrapes: 7 },
];

/** make bench's protobuf step for one build: the median of each case's scrapes. */
async function protobuf(name: string, path: string): Promise<void> {
  for (const c of protobufCases) {
    const port = freePort();
    const child = start(`ab-series-${name}-protobuf`, [path, ...c.args, `--web.listen-address=127.0.0.1:${port}`]);
    try {
      const url = `http://127.0.0.1:${port}/metrics`;
      await waitFor200(`http://127.0.0.1:${port}/-/healthy`, child, 120_000);
      await curlSequence(url, 1, { gzip: false, maxSeconds: 60, accept: protobufAccept });
      const ts = await curlSequence(url, c.scrapes, { gzip: false, maxSeconds: 60, accept: protobufAccept });
      for (const t of ts) {
        if (t.code !== 200 || !t.contentType.startsWith("application/vnd.google.protobuf")) {
          throw new Error(`${name}: asked for protobuf, got ${t.code} ${JSON.stringify(t.contentType)}`);
        }
      }
      record(name, c.key, median(ts.map((t) => t.ms)));
    } finally {
      await stop(child);
    }
  }
}

await withWatchdog("bench/ab_series.ts", async () => {
  for (let i = 0; i < rounds; i++) {
    // The order rotates each round, so that no build always runs right after another.
    const order = builds.map((_, j) => builds[(i + j) % builds.length]);
    for (const b of order) {
      // A fresh copy per round, as bench/ab.ts (see freshCopy).
      const path = freshCopy(b.cmd[0], `series-${b.name}`);
      if (steps.has("scale")) {
        const small = await scale(b.name, path, 10_000);
        const large = await scale(b.name, path, 100_000);
        record(b.name, "slope 10k→100k (µs/series)", ((large - small) * 1000) / 90_000);
      }
      if (steps.has("protobuf")) await protobuf(b.name, path);
    }
    console.error(`round ${i + 1}/${rounds} done`);
  }
});

results.print(
  `median (min–max) of ${rounds} interleaved rounds; scale: 20 sequential curl scrapes after 3 warm-up; ` +
    "protobuf: 10 (histograms 7) after 1",
);
