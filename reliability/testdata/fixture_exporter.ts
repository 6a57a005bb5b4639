// The exporter of main.ts (parseFlags, listenAndServe) with the collectors of one
// reliability scenario instead of fooCollector. The first argument names the
// scenario; the rest are the exporter's flags. Compiled with `make build`'s flags for
// Bun, run with the Makefile's DENO_PERMS (plus --v8-flags=--expose-gc) on Deno.
//
//   corpus    the hostile corpus: 1,000+ HELP texts and label values, see ../_corpus.ts
//   sample    a small hostile sample for a real Prometheus to scrape
//   faulty    a good collector and ones that throw, reject, hang, send duplicates,
//             send series of an undescribed Desc, send 1,000,000 series (in an order
//             the registry has to sort, "million", or already sorted, "million_sorted")
//   large     one collector of 200,000 series (a ~7 MB text body), values changing
//             with every scrape
//   blocking  one collector that blocks until "release" arrives on stdin; every
//             request entering the metrics handler prints "scrape"
//
// Lines on stdin: "gc" collects garbage and prints "gc done heap=<bytes used>"; "release" releases the
// blocking collector.
import process from "node:process";
import type { Collector } from "../../prometheus/collector.ts";
import { type Desc, newDesc } from "../../prometheus/desc.ts";
import { Registry } from "../../prometheus/registry.ts";
import { GaugeValue, type Metric, mustNewConstMetric } from "../../prometheus/value.ts";
import { handlerFor } from "../../promhttp/handler.ts";
import { parseFlags } from "../../web/exporter_flags.ts";
import { listenAndServe } from "../../web/listen_and_serve.ts";
import { hostileCollector, hostileNumbers, hostileStrings, sampleStrings } from "../_corpus.ts";

const [scenario, ...args] = process.argv.slice(2);

let release!: () => void;
const released = new Promise<void>((resolve) => release = resolve);
const gc = (): void => {
  const g = globalThis as { Bun?: { gc(force: boolean): void }; gc?: () => void };
  if (g.Bun) g.Bun.gc(true);
  else g.gc?.();
};
let pending = "";
process.stdin.on("data", (d: Uint8Array | string) => {
  pending += typeof d === "string" ? d : new TextDecoder().decode(d);
  let nl;
  while ((nl = pending.indexOf("\n")) >= 0) {
    const cmd = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    if (cmd === "release") release();
    if (cmd === "gc") {
      gc();
      // A second pass after a turn of the event loop frees what the first made garbage.
      setTimeout(() => {
        gc();
        const m = process.memoryUsage();
        process.stdout.write(`gc done heap=${m.heapUsed} heapTotal=${m.heapTotal} external=${m.external} arrayBuffers=${m.arrayBuffers}\n`);
      }, 50);
    }
  }
});

function gauge(name: string, help: string, labels: string[] = []): Desc {
  return newDesc(name, help, labels);
}

/** The faulty collectors, each named after how it fails, and one good one. */
function faultyCollectors(): Collector[] {
  const one = (name: string, collect: Collector["collect"], descs: Desc[] = [gauge(`${name}_value`, `Collector ${name}.`)]) => ({
    name,
    describe: (ch: (d: Desc) => void) => descs.forEach(ch),
    collect,
  });
  const good = gauge("good_value", "The good collector.");
  const dup = gauge("duplicate_value", "Sent twice.", ["k"]);
  const described = gauge("inconsistent_value", "Described.");
  const undescribed = gauge("inconsistent_other", "Never described.");
  const million = gauge("million_value", "One of 1,000,000 series.", ["i"]);
  const millionSorted = gauge("million_sorted_value", "One of 1,000,000 series, sent in order.", ["i"]);
  return [
    one("good", (ch) => ch(mustNewConstMetric(good, GaugeValue, 1)), [good]),
    one("throws", () => {
      throw new Error("collector throws: boom");
    }),
    one("rejects", () => Promise.reject(new Error("collector rejects: boom"))),
    one("hangs", () => new Promise<void>(() => {})),
    one("duplicate", (ch) => {
      ch(mustNewConstMetric(dup, GaugeValue, 1, "a"));
      ch(mustNewConstMetric(dup, GaugeValue, 2, "a"));
    }, [dup]),
    one("inconsistent", (ch) => {
      ch(mustNewConstMetric(described, GaugeValue, 1));
      ch(mustNewConstMetric(undescribed, GaugeValue, 1));
    }, [described]),
    one("million", (ch) => {
      // String(i) sorts otherwise than i: the registry has to sort a million series.
      for (let i = 0; i < 1_000_000; i++) ch(mustNewConstMetric(million, GaugeValue, i, String(i)));
    }, [million]),
    one("million_sorted", (ch) => {
      // Zero-padded: sent already in the order the registry sorts them in.
      for (let i = 0; i < 1_000_000; i++) ch(mustNewConstMetric(millionSorted, GaugeValue, i, String(i).padStart(7, "0")));
    }, [millionSorted]),
  ];
}

const registry = new Registry();
switch (scenario) {
  case "corpus":
    registry.mustRegister(hostileCollector("hostile", hostileStrings(1200), hostileNumbers(1200)));
    break;
  case "sample":
    registry.mustRegister(hostileCollector("hostile", sampleStrings(), hostileNumbers(40)));
    break;
  case "faulty":
    registry.mustRegister(...faultyCollectors());
    break;
  case "large": {
    const desc = gauge("large_value", "One of 200,000 series.", ["i"]);
    let scrape = 0;
    registry.mustRegister({
      name: "large",
      describe: (ch: (d: Desc) => void) => ch(desc),
      collect(ch: (m: Metric) => void) {
        scrape++;
        for (let i = 0; i < 200_000; i++) ch(mustNewConstMetric(desc, GaugeValue, scrape, `series-${String(i).padStart(6, "0")}`));
      },
    });
    break;
  }
  case "blocking": {
    const desc = gauge("blocking_value", "1 once the test has released the collector.");
    registry.mustRegister({
      name: "blocking",
      describe: (ch: (d: Desc) => void) => ch(desc),
      async collect(ch: (m: Metric) => void) {
        await released;
        ch(mustNewConstMetric(desc, GaugeValue, 1));
      },
    });
    break;
  }
  default:
    console.error(`fixture_exporter: unknown scenario ${JSON.stringify(scenario)}`);
    process.exit(2);
}

const flags = await parseFlags({ registry, args });
const metrics = handlerFor(registry, flags.handlerOpts);
await listenAndServe(flags, (req) => {
  if (scenario === "blocking") process.stdout.write("scrape\n");
  return metrics(req);
});
