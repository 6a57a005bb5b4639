// Direct instrumentation end to end (issue 17): metrics with state served by
// handlerFor, wrapped in the request middleware, scraped by a real Prometheus.
// histogram_quantile over the scraped buckets of a known distribution gives the
// expected value; the summary's quantiles and the middleware's counters arrive as
// exposed; an exemplar, served in OpenMetrics, is stored and returned by the exemplar
// API (--enable-feature=exemplar-storage). Served through node:http, which Bun and Deno both provide.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:http";
import { linearBuckets } from "../prometheus/buckets.ts";
import { newCounterVec } from "../prometheus/counter.ts";
import { newHistogram, newHistogramVec } from "../prometheus/histogram.ts";
import { Registry } from "../prometheus/registry.ts";
import { newSummary } from "../prometheus/summary.ts";
import { handlerFor } from "../promhttp/handler.ts";
import { instrumentHandlerCounter, instrumentHandlerDuration } from "../promhttp/instrument_server.ts";
import { freePort, type Prometheus, startPrometheus, stopAll, waitFor } from "./_harness.ts";

let server: Server;
let prom: Prometheus;
const registry = new Registry();

beforeAll(async () => {
  // Uniform on [0, 1): 10,000 observations, one in every 0.0001.
  const latency = newHistogram({ name: "e2e_latency_seconds", help: "Latency.", buckets: linearBuckets(0.1, 0.1, 9) });
  const summary = newSummary({ name: "e2e_rpc_seconds", help: "RPC.", objectives: { 0.5: 0.05, 0.9: 0.01 } });
  for (let i = 0; i < 10_000; i++) {
    latency.observe(i / 10_000);
    summary.observe(i / 10_000);
  }
  const requests = newCounterVec({ name: "e2e_http_requests_total", help: "Requests." }, ["code", "method"]);
  const duration = newHistogramVec({ name: "e2e_http_request_duration_seconds", help: "Latency." }, ["code"]);
  // Exemplars travel in OpenMetrics only: the handler offers it, Prometheus stores them.
  const traced = newHistogram({ name: "e2e_traced_seconds", help: "Traced.", buckets: [0.1, 1] });
  traced.observe(0.05);
  traced.observeWithExemplar(0.42, { trace_id: "4bf92f3577b34da6" });
  registry.mustRegister(latency, summary, requests, duration, traced);
  const metrics = instrumentHandlerCounter(
    requests,
    instrumentHandlerDuration(duration, handlerFor(registry, { enableOpenMetrics: true })),
  );
  const port = freePort();
  server = createServer(async (req, res) => {
    const r = await metrics(
      new Request(`http://127.0.0.1:${port}${req.url}`, {
        method: req.method,
        headers: req.headers as Record<string, string>,
      }),
    );
    res.writeHead(r.status, Object.fromEntries(r.headers));
    res.end(new Uint8Array(await r.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  prom = await startPrometheus("instrumented", `127.0.0.1:${port}`, { flags: ["--enable-feature=exemplar-storage"] });
}, 40_000);

afterAll(async () => {
  await stopAll();
  await new Promise((r) => server?.close(r));
}, 20_000);

/** Waits (15 s at most) until `promql` answers one sample, and returns its value. */
async function one(promql: string): Promise<number> {
  return await waitFor(promql, async () => {
    const r = await prom.query(promql);
    return r.length === 1 ? Number(r[0].value[1]) : undefined;
  }, { timeoutMs: 15_000, pollMs: 250 });
}

describe("instrumented metrics scraped by Prometheus", () => {
  test("histogram_quantile over the scraped buckets of a uniform distribution", async () => {
    for (const q of [0.25, 0.5, 0.9]) {
      // Linear interpolation inside a bucket is exact for a uniform distribution.
      expect(Math.abs((await one(`histogram_quantile(${q}, e2e_latency_seconds_bucket)`)) - q)).toBeLessThan(0.001);
    }
    expect(await one("e2e_latency_seconds_count")).toBe(10_000);
  }, 20_000);

  test("an exemplar observed with the histogram comes back from /api/v1/query_exemplars", async () => {
    type Found = {
      seriesLabels: Record<string, string>;
      exemplars: { labels: Record<string, string>; value: string }[];
    };
    const now = Date.now() / 1000;
    const found = await waitFor("the exemplar stored", async () => {
      const q = new URLSearchParams({
        query: "e2e_traced_seconds_bucket",
        start: String(now - 600),
        end: String(now + 600),
      });
      const r = await (await fetch(`${prom.url}/api/v1/query_exemplars?${q}`)).json() as {
        status: string;
        data: Found[];
      };
      return r.status === "success" && r.data.length > 0 ? r.data : undefined;
    }, { timeoutMs: 15_000, pollMs: 250 });
    expect(found).toHaveLength(1);
    expect(found[0].seriesLabels.le).toBe("1.0"); // OpenMetrics writes bounds as Go does: 1.0
    expect(found[0].exemplars.map((e) => [e.labels, Number(e.value)])).toEqual([[
      { trace_id: "4bf92f3577b34da6" },
      0.42,
    ]]);
  }, 20_000);

  test("the summary's quantiles within their rank error", async () => {
    expect(Math.abs((await one('e2e_rpc_seconds{quantile="0.5"}')) - 0.5)).toBeLessThanOrEqual(0.05);
    expect(Math.abs((await one('e2e_rpc_seconds{quantile="0.9"}')) - 0.9)).toBeLessThanOrEqual(0.01);
  }, 20_000);

  test("the middleware counted Prometheus' own scrapes", async () => {
    // Each scrape is counted after it is served: the next scrape shows it.
    const n = await waitFor("two scrapes counted", async () => {
      const r = await prom.query('e2e_http_requests_total{code="200",method="get"}');
      return r.length === 1 && Number(r[0].value[1]) >= 2 ? Number(r[0].value[1]) : undefined;
    }, { timeoutMs: 15_000, pollMs: 250 });
    expect(n).toBeGreaterThanOrEqual(2);
    expect(await one('e2e_http_request_duration_seconds_count{code="200"}')).toBeGreaterThanOrEqual(1);
  }, 20_000);
});
