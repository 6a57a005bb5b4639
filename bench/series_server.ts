// The exporter plus the Go reference's high-cardinality family, for the scale benchmarks:
//   series_server --series 100000 --web.listen-address=127.0.0.1:9100
// Same stack as main.ts (default registry, handler(), web/ server with /-/healthy); the
// only addition is SeriesCollector. Every other flag is the exporter's own.
import process from "node:process";
import { newFooCollector } from "../collector.ts";
import { mustRegister } from "../prometheus/mod.ts";
import { handler } from "../promhttp/mod.ts";
import { listenAndServe, parseFlags } from "../web/mod.ts";
import { SeriesCollector } from "./_series_collector.ts";

const args = process.argv.slice(2);
let series = 0;
const at = args.findIndex((a) => a === "--series" || a.startsWith("--series="));
if (at >= 0) {
  const inline = args[at].startsWith("--series=");
  const value = inline ? args[at].slice("--series=".length) : args[at + 1];
  args.splice(at, inline ? 1 : 2);
  series = Number(value);
  if (!Number.isInteger(series) || series < 0) {
    console.error(`series_server: invalid value ${JSON.stringify(value)} for --series: want a count of series`);
    process.exit(2);
  }
}

mustRegister(newFooCollector());
if (series > 0) mustRegister(new SeriesCollector(series));
const flags = await parseFlags({ args });
await listenAndServe(flags, handler(flags.handlerOpts));
