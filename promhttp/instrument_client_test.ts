// Ported in spirit from client_golang's promhttp/instrument_client_test.go: the
// fetch wrappers count, time and track requests in flight as the RoundTripper ones.
import { describe, expect, test } from "bun:test";
import { newCounterVec } from "../prometheus/counter.ts";
import { newGauge } from "../prometheus/gauge.ts";
import { newHistogramVec } from "../prometheus/histogram.ts";
import type { HistogramMetric, Metric } from "../prometheus/value.ts";
import { collectAndCompare } from "../testutil/mod.ts";
import { instrumentFetchCounter, instrumentFetchDuration, instrumentFetchInFlight } from "./instrument_client.ts";

function histograms(v: { collect(ch: (m: Metric) => void): void }): Map<string, HistogramMetric> {
  const out = new Map<string, HistogramMetric>();
  v.collect((m) => out.set(m.labelValues.join(","), m as HistogramMetric));
  return out;
}

describe("fetch middleware", () => {
  const fake = (status: number) => (_input: string | URL | Request, _init?: RequestInit) =>
    Promise.resolve(new Response("ok", { status }));

  test("counter, duration and in flight around a fetch-shaped function", async () => {
    const c = newCounterVec({ name: "client_requests_total", help: "h" }, ["code", "method"]);
    const d = newHistogramVec({ name: "client_duration_seconds", help: "h", buckets: [10] }, ["code"]);
    const g = newGauge({ name: "client_in_flight", help: "h" });
    let seenInFlight = -1;
    const base = (input: string | URL | Request, init?: RequestInit) => {
      seenInFlight = g.value;
      return fake(503)(input, init);
    };
    const f = instrumentFetchCounter(c, instrumentFetchDuration(d, instrumentFetchInFlight(g, base)));
    await f("http://x/", { method: "DELETE" });
    await f(new Request("http://x/", { method: "PUT" }));
    await f(new URL("http://x/"));
    expect(seenInFlight).toBe(1);
    expect(g.value).toBe(0);
    await collectAndCompare(
      c,
      `
      # HELP client_requests_total h
      # TYPE client_requests_total counter
      client_requests_total{code="503",method="delete"} 1
      client_requests_total{code="503",method="get"} 1
      client_requests_total{code="503",method="put"} 1
    `,
    );
    expect(histograms(d).get("503")!.count).toBe(3);
  });

  test("a failed request is not counted, and in flight comes back down", async () => {
    const c = newCounterVec({ name: "c_total", help: "h" }, ["code"]);
    const g = newGauge({ name: "g", help: "h" });
    const f = instrumentFetchCounter(
      c,
      instrumentFetchInFlight(g, () => Promise.reject(new TypeError("connection refused"))),
    );
    await expect(f("http://x/")).rejects.toThrow("connection refused");
    expect(g.value).toBe(0);
    await collectAndCompare(c, "");
  });
});
