// The default scrape in one process, without the HTTP server: µs of CPU time per
// call of handler() (default registry: process, runtime and promhttp collectors, plus the
// tutorial's foo), the body read to the end, as the server would. Median of 7 rounds
// of 2,000 scrapes after a warm-up round. Run with `bun --cpu-prof` for where it goes.
//   bun bench/profile_scrape.ts [wrk|prometheus|text|openmetrics|protobuf] [--bare]
//   deno run -A bench/profile_scrape.ts
import process from "node:process";
import { newFooCollector } from "../collector.ts";
import { mustRegister, Registry } from "../prometheus/mod.ts";
import { handler, handlerFor } from "../promhttp/mod.ts";

const accept: Record<string, string | undefined> = {
  // wrk's request, as `make bench` sends it: no Accept header (text).
  wrk: undefined,
  // Prometheus 2's default Accept header.
  prometheus:
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
  text: "text/plain;version=0.0.4;q=1,*/*;q=0.1",
  openmetrics: "application/openmetrics-text;version=1.0.0;q=1,*/*;q=0.1",
  protobuf: "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=1,*/*;q=0.1",
};
const args = process.argv.slice(2);
const format = args.find((a) => a in accept) ?? "wrk";
const bare = args.includes("--bare");
let h;
if (bare) {
  // What --web.disable-exporter-metrics serves: foo alone.
  const r = new Registry();
  r.mustRegister(newFooCollector());
  h = handlerFor(r, { registry: null, enableOpenMetrics: true });
} else {
  mustRegister(newFooCollector());
  h = handler({ enableOpenMetrics: true });
}
const headers: Record<string, string> = accept[format] ? { "Accept": accept[format]! } : {};
const calls = 2_000, rounds = 7;
const times: number[] = [];
let bytes = 0;
for (let r = 0; r <= rounds; r++) {
  const t0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) {
    const res = await h(new Request("http://127.0.0.1:9100/metrics", { headers }));
    bytes = (await res.arrayBuffer()).byteLength;
  }
  const t = process.cpuUsage(t0);
  if (r > 0) times.push((t.user + t.system) / calls);
}
times.sort((a, b) => a - b);
console.log(
  `${format}${bare ? " (foo only)" : ""}: ${times[rounds >> 1].toFixed(1)} µs CPU per scrape (min ${
    times[0].toFixed(1)
  }), ${bytes} bytes`,
);
process.exit(0);
