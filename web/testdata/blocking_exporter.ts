// A fixture for web/shutdown_test.ts: main.ts's exporter, parseFlags and
// listenAndServe, with one collector, "blocking", whose collect prints "collecting"
// on stdout and then waits until a line arrives on stdin. The test releases it by
// writing a line, which works the same on Bun and Deno and needs no second port.
//
//   bun run web/testdata/blocking_exporter.ts --web.listen-address=127.0.0.1:0
//   deno run --no-prompt --allow-all web/testdata/blocking_exporter.ts --web.listen-address=127.0.0.1:0
import process from "node:process";
import { type Desc, newDesc } from "../../prometheus/desc.ts";
import { Registry } from "../../prometheus/registry.ts";
import { GaugeValue, type Metric, mustNewConstMetric } from "../../prometheus/value.ts";
import { handlerFor } from "../../promhttp/handler.ts";
import { parseFlags } from "../exporter_flags.ts";
import { listenAndServe } from "../listen_and_serve.ts";

let release!: () => void;
const released = new Promise<void>((resolve) => release = resolve);
process.stdin.on("data", () => release());

const desc: Desc = newDesc("blocking_value", "1 once the test has released the collector.");
const registry = new Registry();
registry.mustRegister({
  name: "blocking",
  describe: (ch: (d: Desc) => void) => ch(desc),
  async collect(ch: (m: Metric) => void) {
    process.stdout.write("collecting\n");
    await released;
    ch(mustNewConstMetric(desc, GaugeValue, 1));
  },
});

const flags = await parseFlags({ registry });
await listenAndServe(flags, handlerFor(registry, flags.handlerOpts));
