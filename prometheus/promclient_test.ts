import { describe, expect, test } from "bun:test";
import client from "prom-client";
import { handlerFor } from "../promhttp/handler.ts";
import { collectAndCompare, collectAndFormat } from "../testutil/mod.ts";
import { encode } from "./expfmt.ts";
import { newProcessCollector } from "./process_collector.ts";
import { fromPromClient } from "./promclient.ts";
import { Registry } from "./registry.ts";
import { newRuntimeCollector } from "./runtime_collector.ts";

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
    const size = new client.Summary({
      name: "app_size_bytes",
      help: "Size.",
      percentiles: [0.5, 0.9],
      registers: [pc],
    });
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
    expect(encode((await r.gather()).families)).toBe(
      "# HELP late_total Created later.\n# TYPE late_total counter\nlate_total 1\n",
    );
  });

  test("the registry's default labels are on every series, the series' own labels winning, as in prom-client's output", async () => {
    const pc = new client.Registry();
    pc.setDefaultLabels({ service: "checkout", code: "default" });
    const requests = new client.Counter({
      name: "app_requests_total",
      help: "Requests.",
      labelNames: ["code"],
      registers: [pc],
    });
    requests.inc({ code: "200" }, 2);
    new client.Gauge({ name: "app_queue_length", help: "Queue length.", registers: [pc] }).set(4);
    const latency = new client.Histogram({
      name: "app_latency_seconds",
      help: "Latency.",
      buckets: [0.5],
      registers: [pc],
    });
    latency.observe(0.2);
    const size = new client.Summary({ name: "app_size_bytes", help: "Size.", percentiles: [0.5], registers: [pc] });
    size.observe(7);

    await collectAndCompare(
      fromPromClient(pc),
      `
      # HELP app_requests_total Requests.
      # TYPE app_requests_total counter
      app_requests_total{code="200",service="checkout"} 2
      # HELP app_queue_length Queue length.
      # TYPE app_queue_length gauge
      app_queue_length{code="default",service="checkout"} 4
      # HELP app_latency_seconds Latency.
      # TYPE app_latency_seconds histogram
      app_latency_seconds_bucket{code="default",service="checkout",le="0.5"} 1
      app_latency_seconds_bucket{code="default",service="checkout",le="+Inf"} 1
      app_latency_seconds_sum{code="default",service="checkout"} 0.2
      app_latency_seconds_count{code="default",service="checkout"} 1
      # HELP app_size_bytes Size.
      # TYPE app_size_bytes summary
      app_size_bytes{code="default",service="checkout",quantile="0.5"} 7
      app_size_bytes_sum{code="default",service="checkout"} 7
      app_size_bytes_count{code="default",service="checkout"} 1
      `,
    );
    // And exactly what prom-client itself writes for the same registry.
    await collectAndCompare(fromPromClient(pc), await pc.metrics());
  });

  test("a histogram with exemplars is bridged bucket for bucket; the exemplars are dropped, as the kit's encoders write none", async () => {
    const pc = new client.Registry<client.OpenMetricsContentType>();
    pc.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE);
    // prom-client's types want exemplar label names among the metric's own; at run time they need not be.
    const exemplar = (labels: Record<string, string>) => labels as client.LabelValues<"route">;
    const latency = new client.Histogram({
      name: "app_latency_seconds",
      help: "Latency.",
      labelNames: ["route"],
      buckets: [0.1, 1],
      enableExemplars: true,
      registers: [pc],
    });
    latency.observe({ labels: { route: "/a" }, value: 0.05, exemplarLabels: exemplar({ trace_id: "abc123" }) });
    latency.observe({ labels: { route: "/a" }, value: 0.5, exemplarLabels: exemplar({ trace_id: "def456" }) });
    // prom-client's OpenMetrics output carries them…
    expect(await pc.metrics()).toContain('# {trace_id="abc123"} 0.05');

    const bridged = fromPromClient(pc);
    await collectAndCompare(
      bridged,
      `
      # HELP app_latency_seconds Latency.
      # TYPE app_latency_seconds histogram
      app_latency_seconds_bucket{route="/a",le="0.1"} 1
      app_latency_seconds_bucket{route="/a",le="1"} 2
      app_latency_seconds_bucket{route="/a",le="+Inf"} 2
      app_latency_seconds_sum{route="/a"} 0.55
      app_latency_seconds_count{route="/a"} 2
      `,
    );
    // …the kit's does not (yet): no exemplar in either format, and no error.
    const om = await collectAndFormat(bridged, "openmetrics");
    expect(om).toContain('app_latency_seconds_bucket{route="/a",le="0.1"} 1\n');
    expect(om).not.toContain("trace_id");
  });

  describe("with prom-client's collectDefaultMetrics() next to the kit's process and runtime collectors", () => {
    const setup = (opts: { keepRuntimeMetrics?: boolean } = {}) => {
      const pc = new client.Registry();
      client.collectDefaultMetrics({ register: pc });
      new client.Counter({ name: "app_jobs_total", help: "Jobs done.", registers: [pc] }).inc(3);
      const logged: { msg: string; fields?: Record<string, unknown> }[] = [];
      const logger = { debug: (msg: string, fields?: Record<string, unknown>) => logged.push({ msg, fields }) };
      const r = new Registry();
      r.register(newProcessCollector());
      r.register(newRuntimeCollector());
      r.register(fromPromClient(pc, { ...opts, logger }));
      const defaultNames = pc.getMetricsAsArray().map((m) => m.name).filter((n) => /^(process|nodejs)_/.test(n)).sort();
      return { pc, r, logged, defaultNames };
    };

    test("every scrape succeeds: the kit's families win, prom-client's are skipped, the user's metrics are bridged", async () => {
      const { r, defaultNames } = setup();
      expect(defaultNames).toContain("process_cpu_seconds_total");
      expect(defaultNames).toContain("nodejs_heap_size_used_bytes");
      for (let i = 0; i < 2; i++) {
        const got = await r.gather();
        expect(got.errors.map((e) => e.message)).toEqual([]);
        expect(got.collectors.map((c) => [c.name, c.success])).toEqual([["process", true], ["runtime", true], [
          "prom-client",
          true,
        ]]);
        const names = got.families.map((f) => f.name);
        expect(names).toContain("app_jobs_total");
        // The kit's own process family, with its help text, not prom-client's.
        expect(got.families.find((f) => f.name === "process_cpu_seconds_total")?.help).toBe(
          "Total user and system CPU time spent in seconds.",
        );
        // Families only prom-client's default metrics have are skipped too.
        expect(
          names.filter((n) => ["nodejs_version_info", "process_heap_bytes", "nodejs_gc_duration_seconds"].includes(n)),
        ).toEqual([]);
      }
    });

    test("served: the prom-client collector reports success 1 and the scrape has no error", async () => {
      const { r } = setup();
      const errors: unknown[] = [];
      const h = handlerFor(r, { registry: null, errorLog: (e: unknown) => errors.push(e) });
      for (let i = 0; i < 2; i++) {
        const res = await h(new Request("http://127.0.0.1/metrics"));
        const body = await res.text();
        expect(res.status).toBe(200);
        expect(body).toMatch(/^ts_exporter_scrape_collector_success\{collector="prom-client"\} 1$/m);
        expect(body).toContain("app_jobs_total 3\n");
      }
      expect(errors).toEqual([]);
    });

    test("the skipped names are logged once, at debug level, with their count", async () => {
      const { r, logged, defaultNames } = setup();
      await r.gather();
      await r.gather();
      expect(logged).toEqual([{
        msg: "prom-client metrics left to the kit's process and runtime collectors",
        fields: { collector: "prom-client", skipped: defaultNames.length, names: defaultNames.join(",") },
      }]);
    });

    test("keepRuntimeMetrics bridges them; next to the kit's collectors that is refused as duplicates", async () => {
      const { r } = setup({ keepRuntimeMetrics: true });
      const got = await r.gather();
      expect(got.errors.some((e) => e.family === "process_cpu_seconds_total")).toBe(true);

      const alone = new Registry();
      const pc = new client.Registry();
      client.collectDefaultMetrics({ register: pc });
      alone.register(fromPromClient(pc, { keepRuntimeMetrics: true }));
      const own = await alone.gather();
      expect(own.errors.map((e) => e.message)).toEqual([]);
      expect(own.families.map((f) => f.name)).toContain("nodejs_version_info");
    });
  });
});
