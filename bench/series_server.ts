// The exporter plus the Go reference's high-cardinality families, for the scale benchmarks:
//   series_server --series 100000 --web.listen-address=127.0.0.1:9100
//   series_server --histograms 100000 [--native] --web.listen-address=127.0.0.1:9100
// Same stack as main.ts (default registry, handler(), web/ server with /-/healthy); the
// only additions are SeriesCollector (--series, gauges built at every scrape) and a
// HistogramVec (--histograms, with the default buckets, or --native: native buckets
// only, factor 1.1), as bench/go/main.go's flags of the same names. Every other flag is
// the exporter's own.
import process from "node:process";
import { newFooCollector } from "../collector.ts";
import { mustRegister, newHistogramVec } from "../prometheus/mod.ts";
import { handler } from "../promhttp/mod.ts";
import { listenAndServe, parseFlags } from "../web/mod.ts";
import { SeriesCollector } from "./_series_collector.ts";

const args = process.argv.slice(2);

/** Takes `--name N` or `--name=N` out of args: the count, or 0 when absent. */
function takeCount(name: string): number {
  const at = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (at < 0) return 0;
  const inline = args[at].startsWith(`${name}=`);
  const value = inline ? args[at].slice(name.length + 1) : args[at + 1];
  args.splice(at, inline ? 1 : 2);
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`series_server: invalid value ${JSON.stringify(value)} for ${name}: want a count`);
    process.exit(2);
  }
  return n;
}

const series = takeCount("--series");
const histograms = takeCount("--histograms");
const nativeAt = args.indexOf("--native");
if (nativeAt >= 0) args.splice(nativeAt, 1);

mustRegister(newFooCollector());
if (series > 0) mustRegister(new SeriesCollector(series));
if (histograms > 0) {
  const vec = newHistogramVec({
    name: "bench_histogram",
    help: "Synthetic histograms for scale benchmarks.",
    ...(nativeAt >= 0 ? { nativeHistogramBucketFactor: 1.1 } : {}),
  }, ["id", "zone"]);
  mustRegister(vec);
  // As bench/go/main.go: (i+k) mod 20 tenths for k = 0, 1, 2.
  for (let i = 0; i < histograms; i++) {
    const h = vec.withLabelValues(`item-${i}`, `zone-${i % 16}`);
    for (let k = 0; k < 3; k++) h.observe(((i + k) % 20) / 10);
  }
}
const flags = await parseFlags({ args });
await listenAndServe(flags, handler(flags.handlerOpts));
