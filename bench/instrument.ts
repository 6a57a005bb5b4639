// The instrumentation benchmarks (make bench's "instrument" step, issue 17): ns/op of
// the metrics with state, ours and prom-client 15's, on the runtime this runs on, and
// the time to gather and encode 10,000 instrumented series. Prints one JSON object.
//   bun bench/instrument.ts [scale]        deno run --no-prompt bench/instrument.ts [scale]
// `scale` multiplies the iteration counts (default 1: a few seconds in all).
//
// Each operation runs in a loop of its own, written out, not through a closure per op:
// MEASURED.md found the closure itself costing ~9 ns, more than a counter's inc. The
// Go side (bench/go/instrument_test.go) does exactly the same operations.
import client from "prom-client";
import {
  encodeBytes,
  newCounter,
  newCounterVec,
  newGauge,
  newHistogram,
  newHistogramVec,
  newSummary,
  Registry,
} from "../prometheus/mod.ts";

const scale = Number(process.argv[2] ?? process.env.INSTRUMENT_SCALE ?? 1) || 1;
const objectives = { 0.5: 0.05, 0.9: 0.01, 0.99: 0.001 };
const A = Array.from({ length: 10 }, (_, i) => `a${i}`), B = Array.from({ length: 10 }, (_, i) => `b${i}`);

/** The median over `rounds` rounds of `loop(n)`, in ns per iteration, after a warm-up round. */
function nsPerOp(n: number, loop: (n: number) => void, rounds = 5): number {
  n = Math.max(1, Math.round(n * scale));
  loop(Math.ceil(n / 4));
  const per: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    loop(n);
    per.push(((performance.now() - t0) * 1e6) / n);
  }
  return per.sort((a, b) => a - b)[rounds >> 1];
}

function ours(): Record<string, number> {
  const c = newCounter({ name: "bench_total", help: "h" });
  const v = newCounterVec({ name: "bench_vec_total", help: "h" }, ["a", "b"]);
  const h = newHistogram({ name: "bench_seconds", help: "h" });
  const s = newSummary({ name: "bench_summary_seconds", help: "h", objectives });
  const g = newGauge({ name: "bench_gauge", help: "h" });
  return {
    counterInc: nsPerOp(5e6, (n) => {
      for (let i = 0; i < n; i++) c.inc();
    }),
    vecInc: nsPerOp(1e6, (n) => {
      for (let i = 0; i < n; i++) v.withLabelValues(A[i % 10], B[((i / 10) | 0) % 10]).inc();
    }),
    histogramObserve: nsPerOp(2e6, (n) => {
      for (let i = 0; i < n; i++) h.observe((i % 1000) / 100);
    }),
    summaryObserve: nsPerOp(3e5, (n) => {
      for (let i = 0; i < n; i++) s.observe(((i * 7919) % 1000) / 100);
    }),
    gaugeSet: nsPerOp(5e6, (n) => {
      for (let i = 0; i < n; i++) g.set(i);
    }),
  };
}

function promClient(): Record<string, number> {
  const registers = [new client.Registry()];
  const c = new client.Counter({ name: "bench_total", help: "h", registers });
  const v = new client.Counter({ name: "bench_vec_total", help: "h", labelNames: ["a", "b"], registers });
  const h = new client.Histogram({ name: "bench_seconds", help: "h", registers }); // default buckets = Go's
  // The same window as client_golang's default: 10 minutes in 5 age buckets.
  const s = new client.Summary({
    name: "bench_summary_seconds",
    help: "h",
    percentiles: [0.5, 0.9, 0.99],
    maxAgeSeconds: 600,
    ageBuckets: 5,
    registers,
  });
  const g = new client.Gauge({ name: "bench_gauge", help: "h", registers });
  return {
    counterInc: nsPerOp(1e6, (n) => {
      for (let i = 0; i < n; i++) c.inc();
    }),
    vecInc: nsPerOp(2e5, (n) => {
      for (let i = 0; i < n; i++) v.labels(A[i % 10], B[((i / 10) | 0) % 10]).inc();
    }),
    histogramObserve: nsPerOp(3e5, (n) => {
      for (let i = 0; i < n; i++) h.observe((i % 1000) / 100);
    }),
    summaryObserve: nsPerOp(5e4, (n) => {
      for (let i = 0; i < n; i++) s.observe(((i * 7919) % 1000) / 100);
    }),
    gaugeSet: nsPerOp(1e6, (n) => {
      for (let i = 0; i < n; i++) g.set(i);
    }),
  };
}

const children = 5000;
const codes = ["200", "404", "500", "503"];
const scrapes = Math.max(5, Math.round(9 * scale));

/**
 * Median ms of `scrapes` scrapes, every series touched (outside the timing) before
 * each, after 5 unmeasured ones: the first scrapes run the encoder's code cold (on Bun
 * the first took 100-150 ms, the fifth on ~30 ms, measured 2026-12-03).
 */
async function scrapeMs(
  touch: (k: number) => void,
  scrape: () => Promise<number>,
): Promise<{ ms: number; bytes: number }> {
  let bytes = 0;
  for (let k = -5; k < 0; k++) {
    touch(k + 5);
    bytes = await scrape();
  }
  const ms: number[] = [];
  for (let k = 1; k <= scrapes; k++) {
    touch(k);
    const t0 = performance.now();
    bytes = await scrape();
    ms.push(performance.now() - t0);
  }
  return { ms: ms.sort((a, b) => a - b)[scrapes >> 1], bytes };
}

/** 10,000 series: a CounterVec and a HistogramVec (default buckets) of 5,000 children each. */
async function oursScrape(): Promise<{ ms: number; bytes: number }> {
  const reg = new Registry();
  const counters = newCounterVec({ name: "bench_requests_total", help: "Requests." }, ["code", "path"]);
  const latency = newHistogramVec({ name: "bench_latency_seconds", help: "Latency." }, ["path"]);
  reg.mustRegister(counters, latency);
  const cs = Array.from({ length: children }, (_, i) => counters.withLabelValues(codes[i % 4], `/p/${i}`));
  const hs = Array.from({ length: children }, (_, i) => latency.withLabelValues(`/p/${i}`));
  return await scrapeMs((k) => {
    for (let i = 0; i < children; i++) {
      cs[i].inc();
      hs[i].observe(((i + k) % 1000) / 1000);
    }
  }, async () => {
    const g = await reg.gather();
    if (g.errors.length) throw g.errors[0];
    const n = encodeBytes(g.families, "text").length;
    g.done();
    return n;
  });
}

async function promClientScrape(): Promise<{ ms: number; bytes: number }> {
  const reg = new client.Registry();
  const counters = new client.Counter({
    name: "bench_requests_total",
    help: "Requests.",
    labelNames: ["code", "path"],
    registers: [reg],
  });
  const latency = new client.Histogram({
    name: "bench_latency_seconds",
    help: "Latency.",
    labelNames: ["path"],
    registers: [reg],
  });
  const cs = Array.from({ length: children }, (_, i) => counters.labels(codes[i % 4], `/p/${i}`));
  const hs = Array.from({ length: children }, (_, i) => latency.labels(`/p/${i}`));
  return await scrapeMs((k) => {
    for (let i = 0; i < children; i++) {
      cs[i].inc();
      hs[i].observe(((i + k) % 1000) / 1000);
    }
  }, async () => (await reg.metrics()).length);
}

const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "deno";
console.log(JSON.stringify({
  runtime,
  ours: { ...ours(), scrape10kMs: (await oursScrape()).ms },
  promClient: { ...promClient(), scrape10kMs: (await promClientScrape()).ms },
}));
