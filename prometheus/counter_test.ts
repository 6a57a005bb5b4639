// Ported in spirit from client_golang's counter_test.go: add and inc, the refusal to
// decrease, exemplars and their 128-character limit, vectors of counters, func counters.
import { describe, expect, test } from "bun:test";
import { collectAndCompare, toFloat64 } from "../testutil/mod.ts";
import { type Counter, newCounter, newCounterFunc, newCounterVec } from "./counter.ts";
import { AlreadyRegisteredError, Registry } from "./registry.ts";
import type { Metric, ValueMetric } from "./value.ts";

function collectOne(c: { collect(ch: (m: Metric) => void): void }): ValueMetric {
  const got: Metric[] = [];
  c.collect((m) => got.push(m));
  expect(got.length).toBe(1);
  return got[0] as ValueMetric;
}

describe("newCounter", () => {
  test("inc and add add up; a negative add throws, naming the counter, and changes nothing", async () => {
    const c = newCounter({ name: "test", help: "test help", constLabels: { a: "1", b: "2" } });
    c.inc();
    c.add(42);
    expect(() => c.add(-1)).toThrow(`counter "test" cannot decrease in value (add -1)`);
    expect(await toFloat64(c)).toBe(43);
    await collectAndCompare(
      c,
      `
      # HELP test test help
      # TYPE test counter
      test{a="1",b="2"} 43
    `,
    );
  });

  test("integers and fractions mix, as Go's two-part counter", async () => {
    const c = newCounter({ name: "test_total", help: "h" });
    c.add(0.5);
    c.inc();
    c.add(3);
    c.add(0.25);
    expect(await toFloat64(c)).toBe(4.75);
  });

  test("the name is namespace_subsystem_name, empty parts left out", () => {
    expect(newCounter({ namespace: "ns", subsystem: "sub", name: "x_total", help: "h" }).desc.fqName).toBe(
      "ns_sub_x_total",
    );
    expect(newCounter({ namespace: "ns", name: "x_total", help: "h" }).desc.fqName).toBe("ns_x_total");
    expect(newCounter({ subsystem: "sub", name: "x_total", help: "h" }).desc.fqName).toBe("sub_x_total");
  });

  test("an invalid name or label throws at construction, naming it", () => {
    // Any non-empty valid UTF-8 is a name, as in client_golang 1.24: "bad-name" is one.
    expect(() => newCounter({ name: "", help: "h" })).toThrow(`"" is not a valid metric name`);
    expect(() => newCounter({ name: "a\ud800", help: "h" })).toThrow(`is not a valid metric name`);
    expect(() => newCounter({ name: "ok", help: "h", constLabels: { "__x": "1" } })).toThrow(
      `"__x" is not a valid label name`,
    );
  });

  test("remembers its created time and restarts it on reset", () => {
    const before = Date.now();
    const c = newCounter({ name: "c_total", help: "h" });
    const created = collectOne(c).createdTimestampMs!;
    expect(created).toBeGreaterThanOrEqual(before);
    expect(created).toBeLessThanOrEqual(Date.now());
    c.add(5);
    const t = Date.now();
    while (Date.now() === t); // the next millisecond, bounded by the clock
    c.reset();
    const m = collectOne(c);
    expect(m.value).toBe(0);
    expect(m.createdTimestampMs!).toBeGreaterThan(created);
  });

  test("an unchanged counter resends its sample; a changed one sends a new one", () => {
    const c = newCounter({ name: "c_total", help: "h" });
    const a = collectOne(c);
    expect(collectOne(c)).toBe(a);
    c.inc();
    const b = collectOne(c);
    expect(b).not.toBe(a);
    expect(a.value).toBe(0); // a sample is a snapshot
    expect(b.value).toBe(1);
  });
});

describe("addWithExemplar", () => {
  test("keeps the increment, its labels and time as the exemplar", () => {
    const c = newCounter({ name: "test_total", help: "h" });
    const before = Date.now();
    c.addWithExemplar(42, { id: "19fd", other: "x" });
    const m = collectOne(c);
    expect(m.value).toBe(42);
    expect(m.exemplar!.value).toBe(42);
    expect(m.exemplar!.labels).toEqual({ id: "19fd", other: "x" });
    expect(m.exemplar!.timestampMs!).toBeGreaterThanOrEqual(before);
    c.addWithExemplar(1, { id: "2" });
    expect(collectOne(c).exemplar!.labels).toEqual({ id: "2" });
  });

  const cases: { name: string; labels: Record<string, string>; error?: string }[] = [
    { name: "128 characters exactly", labels: { a: "x".repeat(127) } },
    {
      name: "129 characters",
      labels: { a: "x".repeat(128) },
      error: "exemplar labels have 129 runes, exceeding the limit of 128",
    },
    // Characters, not bytes or UTF-16 units: 64 emoji are 128 units but 64 runes.
    { name: "multi-byte characters count once", labels: { e: "😀".repeat(127) } },
    { name: "names count too", labels: { ["n".repeat(65)]: "v".repeat(64) }, error: "129 runes" },
    { name: "reserved label name", labels: { "__x": "x" }, error: `exemplar label name "__x" is invalid` },
    { name: "empty label name", labels: { "": "x" }, error: `exemplar label name "" is invalid` },
    { name: "lone surrogate", labels: { a: "\ud800" }, error: "is not valid UTF-8" },
  ];
  for (const tc of cases) {
    test(tc.name, () => {
      const c = newCounter({ name: "t_total", help: "h" });
      if (tc.error) {
        expect(() => c.addWithExemplar(1, tc.labels)).toThrow(tc.error);
        expect(c.value).toBe(0); // refused whole: nothing added
      } else {
        c.addWithExemplar(1, tc.labels);
        expect(collectOne(c).exemplar!.labels).toEqual(tc.labels);
      }
    });
  }

  test("a negative increment throws before the exemplar is checked", () => {
    const c = newCounter({ name: "t_total", help: "h" });
    expect(() => c.addWithExemplar(-2, { a: "b" })).toThrow("cannot decrease");
  });
});

describe("newCounterVec", () => {
  test("one counter per label values, exposed sorted", async () => {
    const v = newCounterVec({ name: "http_requests_total", help: "Requests." }, ["code", "method"]);
    v.withLabelValues("200", "GET").inc();
    v.withLabelValues("200", "GET").inc();
    v.withLabelValues("404", "POST").add(3);
    v.with({ method: "GET", code: "500" }).inc();
    expect(v.withLabelValues("200", "GET")).toBe(v.with({ code: "200", method: "GET" }));
    await collectAndCompare(
      v,
      `
      # HELP http_requests_total Requests.
      # TYPE http_requests_total counter
      http_requests_total{code="200",method="GET"} 2
      http_requests_total{code="404",method="POST"} 3
      http_requests_total{code="500",method="GET"} 1
    `,
    );
  });

  test("children remember their own created time", () => {
    const v = newCounterVec({ name: "x_total", help: "h" }, ["a"]);
    v.withLabelValues("1");
    const got: Metric[] = [];
    v.collect((m) => got.push(m));
    expect(got[0].createdTimestampMs).toBeGreaterThan(0);
    expect(got[0].labelValues).toEqual(["1"]);
  });
});

describe("newCounterFunc", () => {
  test("reads the function at each collect", async () => {
    let n = 1;
    const c = newCounterFunc({ name: "evictions_total", help: "Evictions." }, () => n);
    expect(await toFloat64(c)).toBe(1);
    n = 7;
    await collectAndCompare(
      c,
      `
      # HELP evictions_total Evictions.
      # TYPE evictions_total counter
      evictions_total 7
    `,
    );
  });
});

describe("registration", () => {
  test("a counter registered twice is AlreadyRegisteredError with the first, so existing ?? created works as in Go", () => {
    const reg = new Registry();
    const first = newCounter({ name: "jobs_total", help: "Jobs." });
    reg.register(first);
    const again = newCounter({ name: "jobs_total", help: "Jobs." });
    let counter: Counter = again;
    try {
      reg.register(again);
    } catch (e) {
      if (!(e instanceof AlreadyRegisteredError)) throw e;
      counter = e.existingCollector as Counter;
    }
    expect(counter).toBe(first);
    counter.inc();
    expect(first.value).toBe(1);
  });

  test("a counter of the same name with other help is refused outright", () => {
    const reg = new Registry();
    reg.register(newCounter({ name: "jobs_total", help: "Jobs." }));
    expect(() => reg.register(newCounter({ name: "jobs_total", help: "Other." }))).toThrow("different help string");
  });
});
