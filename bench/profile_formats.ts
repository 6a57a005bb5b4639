// Times encodeBytes of N series (bench/_series_collector.ts, the Go reference's
// -series family) in each exposition format, in one process: the text encoder
// against OpenMetrics and protobuf. Medians after warm-up runs; noisy machine, so
// compare the formats of one run, not runs.
//   bun bench/profile_formats.ts [N=100000] [runs=10]
//   deno run bench/profile_formats.ts 100000
import process from "node:process";
import { encodeBytes, type Format, Registry } from "../prometheus/mod.ts";
import { SeriesCollector } from "./_series_collector.ts";

const n = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 10);
const warmups = 3;
const formats: Format[] = ["text", "openmetrics-1.0.0", "protobuf"];

const registry = new Registry();
registry.mustRegister(new SeriesCollector(n));
const ms: Record<string, number[]> = {};
const bytes: Record<string, number> = {};
for (let i = 0; i < warmups + runs; i++) {
  const gathered = await registry.gather();
  for (const f of formats) {
    const t0 = performance.now();
    const b = encodeBytes(gathered.families, f);
    if (i >= warmups) (ms[f] ??= []).push(performance.now() - t0);
    bytes[f] = b.length;
  }
  gathered.done();
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`profile_formats: ${n} series, median of ${runs} runs after ${warmups} warm-up runs`);
console.log("| format | ms | µs/series | MB | × text |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const f of formats) {
  const m = median(ms[f]);
  console.log(
    `| ${f} | ${m.toFixed(1)} | ${(m * 1000 / n).toFixed(3)} | ${(bytes[f] / 1e6).toFixed(2)} | ${
      (m / median(ms.text)).toFixed(2)
    } |`,
  );
}
