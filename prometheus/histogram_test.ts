// Ported in spirit from client_golang's histogram_test.go: bucket layouts, the
// bucket an observation lands in, refused options, exemplars per bucket, vectors.
import { describe, expect, test } from "bun:test";
import { collectAndCompare } from "../testutil/mod.ts";
import { defBuckets, exponentialBuckets, exponentialBucketsRange, linearBuckets } from "./buckets.ts";
import { type Histogram, newHistogram, newHistogramVec } from "./histogram.ts";
import { newTimer } from "./timer.ts";
import type { HistogramMetric, Metric } from "./value.ts";

function sample(h: { collect(ch: (m: Metric) => void): void }): HistogramMetric {
  const got: Metric[] = [];
  h.collect((m) => got.push(m));
  expect(got.length).toBe(1);
  return got[0] as HistogramMetric;
}

describe("bucket helpers", () => {
  test("as Go's TestBuckets", () => {
    expect(linearBuckets(-15, 5, 6)).toEqual([-15, -10, -5, 0, 5, 10]);
    expect(exponentialBuckets(100, 1.2, 3)).toEqual([100, 120, 144]);
    const want = [1.0, 1.6681, 2.7825, 4.6415, 7.7426, 12.9154, 21.5443, 35.9381, 59.9484, 100.0];
    const got = exponentialBucketsRange(1, 100, 10);
    expect(got.length).toBe(want.length);
    got.forEach((g, i) => expect(Math.abs(g - want[i])).toBeLessThan(0.0001));
  });

  test("linear bounds are added up as Go's, to the last bit", () => {
    expect(linearBuckets(0.1, 0.1, 3)).toEqual([0.1, 0.2, 0.1 + 0.1 + 0.1]);
  });

  const refused: [string, () => unknown, string][] = [
    ["linear, count 0", () => linearBuckets(1, 1, 0), "linearBuckets needs a positive count"],
    ["exponential, count 0", () => exponentialBuckets(1, 2, 0), "exponentialBuckets needs a positive count"],
    ["exponential, start 0", () => exponentialBuckets(0, 2, 3), "needs a positive start value"],
    ["exponential, factor 1", () => exponentialBuckets(1, 1, 3), "needs a factor greater than 1"],
    ["range, count 0", () => exponentialBucketsRange(1, 10, 0), "needs a positive count"],
    ["range, min 0", () => exponentialBucketsRange(0, 10, 3), "needs a min greater than 0"],
  ];
  for (const [name, fn, msg] of refused) test(`refused: ${name}`, () => expect(fn).toThrow(msg));

  test("defBuckets are Go's", () => {
    expect(defBuckets).toEqual([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
  });
});

describe("newHistogram", () => {
  test("an observation lands in the first bucket whose bound is at least it; +Inf and NaN past the last", () => {
    const h = newHistogram({ name: "h", help: "h", buckets: [-2, -1, -0.5, 0, 0.5, 1, 2, Infinity] });
    for (const v of [-3, -2, -1.5, 0, 0, 0.25, 1, 2, 2.5, Infinity, NaN]) h.observe(v);
    const m = sample(h);
    // The +Inf bound given is dropped: it is implied by the count.
    expect(m.buckets).toEqual([[-2, 2], [-1, 3], [-0.5, 3], [0, 5], [0.5, 6], [1, 7], [2, 8]]);
    expect(m.count).toBe(11);
    expect(Number.isNaN(m.sum)).toBe(true);
  });

  test("many buckets are searched by bisection with the same result", () => {
    const bounds = linearBuckets(0, 1, 100);
    const h = newHistogram({ name: "h", help: "h", buckets: bounds });
    const linear = newHistogram({ name: "h", help: "h", buckets: bounds.slice(0, 30) });
    for (let i = 0; i < 1000; i++) {
      const v = (i * 7919) % 1013 / 10 - 1;
      h.observe(v);
      linear.observe(v);
    }
    const many = sample(h).buckets, few = sample(linear).buckets;
    for (let i = 0; i < few.length; i++) expect(many[i]).toEqual(few[i]);
    expect(many.at(-1)![1]).toBe(
      sample(h).count - [...Array(1000).keys()].filter((i) => (i * 7919) % 1013 / 10 - 1 > 99).length,
    );
  });

  test("default buckets, exposed with sum and count", async () => {
    const h = newHistogram({ name: "request_duration_seconds", help: "Latency." });
    h.observe(0.003);
    h.observe(0.3);
    h.observe(20);
    await collectAndCompare(
      h,
      `
      # HELP request_duration_seconds Latency.
      # TYPE request_duration_seconds histogram
      request_duration_seconds_bucket{le="0.005"} 1
      request_duration_seconds_bucket{le="0.01"} 1
      request_duration_seconds_bucket{le="0.025"} 1
      request_duration_seconds_bucket{le="0.05"} 1
      request_duration_seconds_bucket{le="0.1"} 1
      request_duration_seconds_bucket{le="0.25"} 1
      request_duration_seconds_bucket{le="0.5"} 2
      request_duration_seconds_bucket{le="1"} 2
      request_duration_seconds_bucket{le="2.5"} 2
      request_duration_seconds_bucket{le="5"} 2
      request_duration_seconds_bucket{le="10"} 2
      request_duration_seconds_bucket{le="+Inf"} 3
      request_duration_seconds_sum 20.303
      request_duration_seconds_count 3
    `,
    );
  });

  const refused: [string, Record<string, unknown>, string][] = [
    ["not strictly monotonic", { buckets: [1, 2, 2, 3] }, "histogram buckets must be in increasing order: 2 >= 2"],
    ["not monotonic at all", { buckets: [1, 2, 4, 3, 5] }, "4 >= 3"],
    ["+Inf in the middle", { buckets: [1, 2, Infinity, 3] }, "Infinity >= 3"],
    ["NaN bound", { buckets: [1, NaN] }, "bucket 1 is not a number"],
    ["le as const label", { constLabels: { le: "1" } }, `"le" is not allowed as label name in histograms`],
  ];
  for (const [name, opts, msg] of refused) {
    test(`refused: ${name}`, () =>
      expect(() => newHistogram({ name: "test_histogram", help: "helpless", ...opts })).toThrow(msg));
  }

  test("le as a variable label of a vec is refused", () => {
    expect(() => newHistogramVec({ name: "h", help: "h" }, ["le"])).toThrow(
      `"le" is not allowed as label name in histograms`,
    );
  });

  test("native options alone mean no classic buckets, as Go's", () => {
    const h = newHistogram({ name: "h", help: "h", nativeHistogramBucketFactor: 1.1 });
    h.observe(3);
    expect(sample(h).buckets).toEqual([]);
    expect(sample(h).count).toBe(1);
  });

  test("observeWithExemplar keeps one exemplar per bucket, +Inf's last", () => {
    const h = newHistogram({ name: "h", help: "h", buckets: [1, 2, 3] });
    h.observeWithExemplar(1.5, { id: "a" });
    h.observeWithExemplar(1.7, { id: "b" });
    h.observeWithExemplar(99, { id: "c" });
    h.observe(0.5);
    const m = sample(h);
    expect(m.bucketExemplars!.map((e) => e?.labels.id)).toEqual([undefined, "b", undefined, "c"]);
    expect(m.bucketExemplars![1]!.value).toBe(1.7);
    expect(m.count).toBe(4);
    expect(() => h.observeWithExemplar(1, { a: "x".repeat(128) })).toThrow("exceeding the limit of 128");
    expect(sample(h).count).toBe(4);
  });

  test("remembers its created time; reset empties it and restarts it", () => {
    const h = newHistogram({ name: "h", help: "h", buckets: [1] });
    const created = sample(h).createdTimestampMs!;
    expect(created).toBeGreaterThan(0);
    h.observeWithExemplar(0.5, { a: "b" });
    const t = Date.now();
    while (Date.now() === t); // the next millisecond
    h.reset();
    const m = sample(h);
    expect([m.count, m.sum, m.buckets, m.bucketExemplars]).toEqual([0, 0, [[1, 0]], undefined]);
    expect(m.createdTimestampMs!).toBeGreaterThan(created);
  });

  test("an idle histogram resends its sample; an observation makes a new one", () => {
    const h = newHistogram({ name: "h", help: "h" });
    const a = sample(h);
    expect(sample(h)).toBe(a);
    h.observe(1);
    expect(sample(h)).not.toBe(a);
    expect(a.count).toBe(0);
  });
});

describe("native buckets (native_histogram.ts inside the histogram)", () => {
  const total = (counts: readonly number[]) => counts.reduce((a, b) => a + b, 0);

  test("get every observation but NaN, with exemplars, beside the classic buckets; reset empties both", () => {
    const h = newHistogram({ name: "h", help: "h", buckets: [1], nativeHistogramBucketFactor: 1.1 });
    h.observe(0.5);
    h.observe(NaN);
    h.observeWithExemplar(2, { a: "b" });
    h.observe(-3);
    h.observe(0);
    const m = sample(h);
    expect(m.count).toBe(5);
    expect(m.buckets).toEqual([[1, 3]]);
    const n = m.native!;
    expect(n.schema).toBe(3); // factor 1.1: 2^(2^-3) ≈ 1.09, as client_golang's pickSchema
    expect([total(n.positiveCounts), total(n.negativeCounts), n.zeroCount]).toEqual([2, 1, 1]);
    expect(n.exemplars!.map((e) => e.labels)).toEqual([{ a: "b" }]);
    h.reset();
    const r = sample(h);
    expect([r.count, r.native!.positiveSpans.length, r.native!.zeroCount]).toEqual([0, 0, 0]);
  });

  test("a bucket limit reached after the minimum reset duration resets the classic side too, keeping the observation", async () => {
    const h = newHistogram({
      name: "h",
      help: "h",
      buckets: [10],
      nativeHistogramBucketFactor: 1.1,
      nativeHistogramMaxBucketNumber: 2,
      nativeHistogramMinResetDuration: 1,
    });
    h.observe(1);
    h.observe(2);
    await new Promise((r) => setTimeout(r, 5));
    h.observe(4); // a third bucket: over the limit, and 1 ms has passed: reset
    const m = sample(h);
    expect([m.count, m.sum, total(m.native!.positiveCounts)]).toEqual([1, 4, 1]);
  });

  test("each child of a vec has buckets of its own", () => {
    const v = newHistogramVec({ name: "h", help: "h", nativeHistogramBucketFactor: 2 }, ["x"]);
    v.withLabelValues("a").observe(1);
    v.withLabelValues("a").observe(1);
    v.withLabelValues("b").observe(8);
    const a = sample(v.withLabelValues("a")).native!, b = sample(v.withLabelValues("b")).native!;
    expect([a.schema, total(a.positiveCounts), total(b.positiveCounts)]).toEqual([0, 2, 1]);
  });
});

describe("newHistogramVec", () => {
  test("children share the buckets and count apart", async () => {
    const v = newHistogramVec({ name: "x_seconds", help: "h", buckets: [1] }, ["m"]);
    v.withLabelValues("a").observe(0.5);
    v.withLabelValues("b").observe(2);
    await collectAndCompare(
      v,
      `
      # HELP x_seconds h
      # TYPE x_seconds histogram
      x_seconds_bucket{m="a",le="1"} 1
      x_seconds_bucket{m="a",le="+Inf"} 1
      x_seconds_sum{m="a"} 0.5
      x_seconds_count{m="a"} 1
      x_seconds_bucket{m="b",le="1"} 0
      x_seconds_bucket{m="b",le="+Inf"} 1
      x_seconds_sum{m="b"} 2
      x_seconds_count{m="b"} 1
    `,
    );
  });
});

describe("newTimer", () => {
  test("observes the seconds since it started, into an observer or a function", async () => {
    const h: Histogram = newHistogram({ name: "h", help: "h", buckets: [0.001, 10] });
    const t = newTimer(h);
    const seen: number[] = [];
    const f = newTimer((s) => seen.push(s));
    await new Promise((r) => setTimeout(r, 5));
    const got = t.observeDuration();
    expect(got).toBeGreaterThanOrEqual(0.004);
    expect(got).toBeLessThan(10);
    const m = sample(h);
    expect(m.count).toBe(1);
    expect(m.sum).toBe(got);
    expect(m.buckets).toEqual([[0.001, 0], [10, 1]]);
    expect(f.observeDuration()).toBe(seen[0]);
  });
});
