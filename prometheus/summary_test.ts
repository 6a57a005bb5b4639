// Ported in spirit from client_golang's summary_test.go: the quantile guarantees over a
// known distribution, the sliding window (TestSummaryDecay, on a clock the test moves),
// refused options, vectors. The streams themselves: _quantile.ts.
import { describe, expect, test } from "bun:test";
import { collectAndCompare } from "../testutil/mod.ts";
import { descFromOpts } from "./opts.ts";
import { newSummary, newSummaryVec, Summary, type SummaryOpts } from "./summary.ts";
import type { Metric, SummaryMetric } from "./value.ts";
import { TargetedStream } from "./_quantile.ts";

function sample(s: { collect(ch: (m: Metric) => void): void }): SummaryMetric {
  const got: Metric[] = [];
  s.collect((m) => got.push(m));
  expect(got.length).toBe(1);
  return got[0] as SummaryMetric;
}

/** A deterministic uniform source in [0, 1) (mulberry32), so a failure can be replayed. */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function summaryAt(opts: SummaryOpts, clock: { t: number }): Summary {
  return new Summary(descFromOpts(opts, []), opts, [], () => clock.t);
}

describe("quantile guarantees", () => {
  test("each objective's rank error holds over 1,000,000 exponentially distributed observations", () => {
    const objectives: [number, number][] = [[0.5, 0.05], [0.9, 0.01], [0.99, 0.001]];
    const clock = { t: 0 };
    const s = summaryAt({ name: "s", help: "h", objectives: new Map(objectives) }, clock);
    const n = 1_000_000;
    const data = new Float64Array(n);
    const rand = uniform(42);
    for (let i = 0; i < n; i++) {
      const v = -Math.log(1 - rand()); // Exp(1): its quantile function is -ln(1 - q)
      data[i] = v;
      s.observe(v);
      if (i % 1000 === 0) clock.t++;
    }
    // The clock moved 1,000 ms: inside the default 10-minute window, so every
    // observation still counts.
    const m = sample(s);
    expect(m.count).toBe(n);
    data.sort();
    for (const [[q, got], [, eps]] of m.quantiles.map((x, i) => [x, objectives[i]] as const)) {
      // The rank of the answer, as an interval when values repeat.
      let lo = 0, hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (data[mid] < got) lo = mid + 1;
        else hi = mid;
      }
      const rankLo = lo;
      let rankHi = lo;
      while (rankHi < n && data[rankHi] === got) rankHi++;
      const wantLo = (q - eps) * n, wantHi = (q + eps) * n;
      expect({ q, rankOK: rankHi >= wantLo && rankLo <= wantHi, rankLo, wantLo, wantHi }).toEqual({
        q,
        rankOK: true,
        rankLo,
        wantLo,
        wantHi,
      });
      // And against the distribution itself: between its (q - ε) and (q + ε) quantiles,
      // widened by five standard errors of an empirical quantile of n draws.
      const slack = 5 * Math.sqrt(q * (1 - q) / n);
      expect(got).toBeGreaterThan(-Math.log(1 - (q - eps - slack)));
      expect(got).toBeLessThan(-Math.log(1 - (q + eps + slack)));
    }
  });

  test("fewer observations than one batch are answered exactly", () => {
    const s = newSummary({ name: "s", help: "h", objectives: { 0.5: 0.05, 0.9: 0.01 } });
    for (const v of [9, 2, 7, 4, 5, 6, 3, 8, 1, 10]) s.observe(v);
    expect(sample(s).quantiles).toEqual([[0.5, 5], [0.9, 9]]);
  });

  test("without objectives only count and sum are kept, as Go's default", async () => {
    const s = newSummary({ name: "rpc_seconds", help: "RPC." });
    s.observe(1);
    s.observe(2.5);
    expect(sample(s).quantiles).toEqual([]);
    await collectAndCompare(
      s,
      `
      # HELP rpc_seconds RPC.
      # TYPE rpc_seconds summary
      rpc_seconds_sum 3.5
      rpc_seconds_count 2
    `,
    );
  });

  test("an empty window reports NaN quantiles", () => {
    const s = newSummary({ name: "s", help: "h", objectives: { 0.5: 0.05 } });
    expect(Number.isNaN(sample(s).quantiles[0][1])).toBe(true);
  });
});

describe("sliding window", () => {
  test("quantiles follow the last maxAge (TestSummaryDecay on a test clock); count and sum do not", () => {
    const clock = { t: 0 };
    const s = summaryAt({ name: "s", help: "h", maxAge: 100, ageBuckets: 10, objectives: { 0.1: 0.001 } }, clock);
    let sum = 0;
    for (let i = 1; i <= 1000; i++) {
      clock.t = i; // one observation a millisecond
      s.observe(i);
      sum += i;
      if (i % 10 === 0) {
        const got = sample(s).quantiles[0][1];
        // The window holds the last 90 to 100 ms: its 0.1 quantile is about i - 90.
        const want = Math.max(i / 10, i - 90);
        expect({ i, off: Math.abs(got - want) <= 10 }).toEqual({ i, off: true });
      }
    }
    clock.t += 100; // maxAge without observations
    const m = sample(s);
    expect(Number.isNaN(m.quantiles[0][1])).toBe(true);
    expect([m.count, m.sum]).toEqual([1000, sum]);
  });

  test("under heavy traffic (buffers filling between steps) the window still holds the last maxAge", () => {
    const clock = { t: 0 };
    const s = summaryAt(
      { name: "s", help: "h", maxAge: 100, ageBuckets: 5, objectives: { 0.5: 0.01, 0.05: 0.005 } },
      clock,
    );
    // 300 observations a millisecond, each the time it was made, for 300 ms.
    for (let t = 0; t < 300; t++) {
      clock.t = t;
      for (let k = 0; k < 300; k++) s.observe(t + k / 300);
    }
    const [[, p05], [, p50]] = sample(s).quantiles;
    // The head stream was emptied at the first flush at or after the 200 ms step (as
    // Go's: when the buffer of 500 next fills, within 2 ms here), so it holds the values
    // from h in [200, 202) to 300; each quantile is within its rank error of h's window.
    const within = (q: number, eps: number, got: number) => {
      const lo = 200 + (q - eps) * 100, hi = 202 + (q + eps) * 98;
      expect({ q, got, ok: got >= lo && got <= hi }).toEqual({ q, got, ok: true });
    };
    within(0.05, 0.005, p05);
    within(0.5, 0.01, p50);
  });

  test("reset forgets the window, count and sum, and restarts the created time", () => {
    const clock = { t: 1000 };
    const s = summaryAt({ name: "s", help: "h", objectives: { 0.5: 0.05 } }, clock);
    s.observe(3);
    clock.t = 2000;
    s.reset();
    const m = sample(s);
    expect([m.count, m.sum, Number.isNaN(m.quantiles[0][1]), m.createdTimestampMs]).toEqual([0, 0, true, 2000]);
  });
});

describe("options", () => {
  const refused: [string, Partial<SummaryOpts>, string][] = [
    [
      "quantile as const label",
      { constLabels: { quantile: "x" } },
      `"quantile" is not allowed as label name in summaries`,
    ],
    ["negative max age", { maxAge: -1 }, "illegal max age maxAge=-1"],
    ["objective above 1", { objectives: { 1.5: 0.01 } }, "objective quantile 1.5 is outside [0, 1]"],
    ["negative error", { objectives: { 0.5: -0.01 } }, "rank error -0.01"],
    ["fractional age buckets", { ageBuckets: 2.5 }, "illegal age buckets"],
  ];
  for (const [name, opts, msg] of refused) {
    test(`refused: ${name}`, () => expect(() => newSummary({ name: "s", help: "h", ...opts })).toThrow(msg));
  }
  test("quantile as a variable label of a vec is refused", () => {
    expect(() => newSummaryVec({ name: "s", help: "h" }, ["quantile"])).toThrow(
      `"quantile" is not allowed as label name in summaries`,
    );
  });
});

describe("newSummaryVec", () => {
  test("children keep their own quantiles", async () => {
    const v = newSummaryVec({ name: "rpc_seconds", help: "RPC.", objectives: { 0.5: 0.05 } }, ["service"]);
    for (let i = 1; i <= 3; i++) v.withLabelValues("a").observe(i);
    v.withLabelValues("b").observe(10);
    await collectAndCompare(
      v,
      `
      # HELP rpc_seconds RPC.
      # TYPE rpc_seconds summary
      rpc_seconds{service="a",quantile="0.5"} 2
      rpc_seconds_sum{service="a"} 6
      rpc_seconds_count{service="a"} 3
      rpc_seconds{service="b",quantile="0.5"} 10
      rpc_seconds_sum{service="b"} 10
      rpc_seconds_count{service="b"} 1
    `,
    );
  });
});

describe("TargetedStream (_quantile.ts)", () => {
  test("keeps few samples however many observations, and answers within each rank error", () => {
    const targets: [number, number][] = [[0.5, 0.05], [0.9, 0.01], [0.99, 0.001]];
    const s = new TargetedStream(targets);
    const rand = uniform(7), n = 200_000, all = new Float64Array(n), batch = new Float64Array(500);
    for (let k = 0; k < n / 500; k++) {
      for (let i = 0; i < 500; i++) all[k * 500 + i] = batch[i] = rand();
      // Unsorted batches take the buffered path, sorted full ones the direct merge.
      if (k % 2 === 0) batch.sort();
      s.insertMany(batch, 500, k % 2 === 0);
    }
    expect(s.count()).toBe(n);
    expect(s.size).toBeLessThan(200);
    all.sort();
    for (const [q, eps] of targets) {
      const v = s.query(q);
      let rank = 0;
      while (all[rank] < v) rank++;
      expect({ q, error: Math.abs(rank / n - q) <= eps }).toEqual({ q, error: true });
    }
    s.reset();
    expect([s.count(), Number.isNaN(s.query(0.5))]).toEqual([0, true]);
  });
});
