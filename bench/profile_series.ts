// Times, in one process, each stage a scrape of N series goes through, and prints
// µs/series per stage: the guide for optimising the model, registry and encoder.
//   bun bench/profile_series.ts [N=100000] [runs=10]
//   deno run bench/profile_series.ts 100000
// Stages, through the public API only (prometheus/mod.ts): collect (the collector's
// N mustNewConstMetric, sent nowhere), gather (Registry.gather, which runs
// collect again into the registry's columns; its own share, columns, checks and sort,
// is gather − collect: the collector sends the same label values every run, so after
// the first gather the order and duplicate check is the one remembered, as for an
// exporter whose series do not change from scrape to scrape), encode (encodeBytes, text format to UTF-8, into a fresh buffer:
// the handler reuses one from scrape to scrape, so this stage also holds the page
// faults of a fresh 5 MB buffer that the handler spares), gzip (level 1, as the
// handler). Medians after warm-up runs.
import { gzipSync } from "node:zlib";
import process from "node:process";
import { encodeBytes, type Metric, Registry } from "../prometheus/mod.ts";
import { SeriesCollector } from "./_series_collector.ts";

const n = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 10);
const warmups = 3;

const collector = new SeriesCollector(n);
const registry = new Registry();
registry.mustRegister(collector);

type Stage = "collect" | "gather" | "encode" | "gzip";
const samples: Record<Stage, number[]> = { collect: [], gather: [], encode: [], gzip: [] };
let textBytes = 0, gzipBytes = 0;

function time<T>(stage: Stage, record: boolean, fn: () => T): T {
  const t0 = performance.now();
  const r = fn();
  if (record) samples[stage].push(performance.now() - t0);
  return r;
}

const sink = (_: Metric) => {};
for (let i = 0; i < warmups + runs; i++) {
  const record = i >= warmups;
  time("collect", record, () => collector.collect(sink));
  const t0 = performance.now();
  const gathered = await registry.gather();
  if (record) samples.gather.push(performance.now() - t0);
  if (gathered.errors.length) throw gathered.errors[0];
  const bytes = time("encode", record, () => encodeBytes(gathered.families, "text"));
  gathered.done();
  const gz = time("gzip", record, () => gzipSync(bytes, { level: 1 }));
  textBytes = bytes.length;
  gzipBytes = gz.length;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) as Record<Stage, number>;
const rows: [string, number][] = [
  ["collect (mustNewConstMetric, sent nowhere)", m.collect],
  ["gather: columns, checks, sort (gather − collect)", Math.max(0, m.gather - m.collect)],
  ["encode (encodeBytes, fresh buffer)", m.encode],
  ["gzip level 1", m.gzip],
];
const total = rows.reduce((a, [, v]) => a + v, 0);
const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
const runtime = g.Bun ? `bun ${g.Bun.version}` : g.Deno ? `deno ${g.Deno.version.deno}` : `node ${process.version}`;
console.log(`profile_series: ${n} series, ${runtime}, median of ${runs} runs after ${warmups} warm-up runs`);
console.log(`text ${(textBytes / 1e6).toFixed(2)} MB, gzip ${(gzipBytes / 1e6).toFixed(2)} MB`);
console.log("| stage | ms | µs/series | share |");
console.log("| --- | ---: | ---: | ---: |");
for (const [name, ms] of [...rows, ["total", total] as [string, number]]) {
  console.log(`| ${name} | ${ms.toFixed(1)} | ${(ms * 1000 / n).toFixed(3)} | ${(100 * ms / total).toFixed(0)}% |`);
}
