import { describe, expect, test } from "bun:test";
import client from "prom-client";
import { encode } from "./expfmt.ts";
import { fromPromClient } from "./promclient.ts";
import { Registry } from "./registry.ts";

describe("fromPromClient", () => {
  test("a prom-client counter, gauge, histogram and summary appear in our text output", async () => {
    const pc = new client.Registry();
    const requests = new client.Counter({
      name: "app_requests_total",
      help: "Requests served.",
      labelNames: ["method", "code"],
      registers: [pc],
    });
    requests.inc({ method: "get", code: "500" });
    requests.inc({ code: "200", method: "get" }, 3);
    new client.Gauge({ name: "app_temperature_celsius", help: "Temperature.", registers: [pc] }).set(21.5);
    const latency = new client.Histogram({
      name: "app_latency_seconds",
      help: "Latency.",
      labelNames: ["route"],
      buckets: [0.1, 1],
      registers: [pc],
    });
    latency.observe({ route: "/b" }, 0.05);
    latency.observe({ route: "/a" }, 0.5);
    latency.observe({ route: "/a" }, 3);
    const size = new client.Summary({ name: "app_size_bytes", help: "Size.", percentiles: [0.5, 0.9], registers: [pc] });
    size.observe(10);
    size.observe(20);

    const r = new Registry();
    r.register(fromPromClient(pc));
    const got = await r.gather();

    expect(got.errors.map((e) => e.message)).toEqual([]);
    expect(encode(got.families, "text")).toBe(
      [
        "# HELP app_latency_seconds Latency.",
        "# TYPE app_latency_seconds histogram",
        'app_latency_seconds_bucket{route="/a",le="0.1"} 0',
        'app_latency_seconds_bucket{route="/a",le="1"} 1',
        'app_latency_seconds_bucket{route="/a",le="+Inf"} 2',
        'app_latency_seconds_sum{route="/a"} 3.5',
        'app_latency_seconds_count{route="/a"} 2',
        'app_latency_seconds_bucket{route="/b",le="0.1"} 1',
        'app_latency_seconds_bucket{route="/b",le="1"} 1',
        'app_latency_seconds_bucket{route="/b",le="+Inf"} 1',
        'app_latency_seconds_sum{route="/b"} 0.05',
        'app_latency_seconds_count{route="/b"} 1',
        "# HELP app_requests_total Requests served.",
        "# TYPE app_requests_total counter",
        'app_requests_total{code="200",method="get"} 3',
        'app_requests_total{code="500",method="get"} 1',
        "# HELP app_size_bytes Size.",
        "# TYPE app_size_bytes summary",
        'app_size_bytes{quantile="0.5"} 15',
        'app_size_bytes{quantile="0.9"} 20',
        "app_size_bytes_sum 30",
        "app_size_bytes_count 2",
        "# HELP app_temperature_celsius Temperature.",
        "# TYPE app_temperature_celsius gauge",
        "app_temperature_celsius 21.5",
        "",
      ].join("\n"),
    );
  });

  test("a prom-client metric whose collect() throws is left out and reported, the others served", async () => {
    const pc = new client.Registry();
    new client.Gauge({ name: "app_up", help: "Up.", registers: [pc] }).set(1);
    new client.Gauge({
      name: "app_broken",
      help: "Reads a sensor that is gone.",
      registers: [pc],
      collect() {
        throw new Error("sensor unreachable");
      },
    });

    const r = new Registry();
    r.register(fromPromClient(pc));
    const got = await r.gather();

    expect(got.families.map((f) => f.name)).toEqual(["app_up"]);
    expect(got.errors.map((e) => [e.collector, e.family, e.message])).toEqual([
      ["prom-client", "app_broken", "collector prom-client: metric app_broken: sensor unreachable"],
    ]);
    expect(got.collectors.map((c) => [c.name, c.success])).toEqual([["prom-client", false]]);
  });

  test("an async collect() that rejects is contained the same way", async () => {
    const pc = new client.Registry();
    new client.Gauge({ name: "app_up", help: "Up.", registers: [pc] }).set(1);
    new client.Gauge({
      name: "app_remote",
      help: "Read over the network.",
      registers: [pc],
      async collect() {
        await Promise.resolve();
        throw new Error("connection refused");
      },
    });

    const r = new Registry();
    r.register(fromPromClient(pc));
    const got = await r.gather();

    expect(got.families.map((f) => f.name)).toEqual(["app_up"]);
    expect(got.errors.map((e) => e.family)).toEqual(["app_remote"]);
  });

  test("prom-client metrics registered after the bridge are picked up", async () => {
    const pc = new client.Registry();
    const r = new Registry();
    r.register(fromPromClient(pc));
    expect((await r.gather()).families).toEqual([]);
    new client.Counter({ name: "late_total", help: "Created later.", registers: [pc] }).inc();
    expect(encode((await r.gather()).families)).toBe("# HELP late_total Created later.\n# TYPE late_total counter\nlate_total 1\n");
  });
});
