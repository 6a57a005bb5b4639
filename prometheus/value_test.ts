import { describe, expect, test } from "bun:test";
import { newDesc } from "./desc.ts";
import {
  CounterValue,
  GaugeValue,
  labelCount,
  labelValueAt,
  mustNewConstHistogram,
  mustNewConstMetric,
  mustNewConstMetricWithCreatedTimestamp,
  mustNewConstNativeHistogram,
  mustNewConstSummary,
  newInvalidMetric,
  newMetricWithExemplars,
  newMetricWithTimestamp,
  type ValueType,
} from "./value.ts";
import { Registry } from "./registry.ts";
import { encode } from "./expfmt.ts";

const reqDesc = newDesc("app_requests_total", "Requests served.", ["method", "code"], { app: "api" });

describe("mustNewConstMetric", () => {
  test("keeps the value and the label values in Desc order", () => {
    const m = mustNewConstMetric(reqDesc, CounterValue, 42, "get", "200");
    expect(m.type).toBe("counter");
    expect(m.value).toBe(42);
    expect(m.labelValues).toEqual(["get", "200"]);
  });

  test("renders all label pairs sorted by name, const labels mixed in, values escaped", () => {
    const m = mustNewConstMetric(reqDesc, CounterValue, 1, 'g"e\\t\n', "200");
    expect(m._labels).toBe(`app="api",code="200",method="g\\"e\\\\t\\n"`);
  });

  test("NaN and infinities are values like any other", () => {
    const d = newDesc("x", "X.");
    expect(mustNewConstMetric(d, GaugeValue, NaN).value).toBeNaN();
    expect(mustNewConstMetric(d, GaugeValue, -Infinity).value).toBe(-Infinity);
  });

  test("zero to five label values (fields up to three, an array beyond) read alike by the model, registry and encoder", async () => {
    const names = ["e", "d", "c", "b", "a"];
    for (let n = 0; n <= names.length; n++) {
      const d = newDesc(`x${n}`, "X.", names.slice(0, n));
      const values = names.slice(0, n).map((l) => `v${l}`);
      const m = mustNewConstMetric(d, GaugeValue, n, ...values);
      expect(m.labelValues).toEqual(values);
      expect(labelCount(m)).toBe(n);
      expect(values.map((_, i) => labelValueAt(m, i))).toEqual(values);
      expect(m._labels).toBe(names.slice(0, n).map((l) => `${l}="v${l}"`).sort().join(","));
      const r = new Registry();
      r.mustRegister({ name: `c${n}`, describe: (ch) => ch(d), collect: (ch) => ch(m) });
      const { families, errors } = await r.gather();
      expect(errors).toEqual([]);
      const want = n === 0 ? `x0 0` : `x${n}{${m._labels}} ${n}`;
      expect(encode(families).split("\n").at(-2)).toBe(want);
      expect(families[0].metrics[0].labelValues).toEqual(values); // the registry's copy, from its columns
    }
  });
});

describe("mustNewConstHistogram and mustNewConstSummary", () => {
  const hDesc = newDesc("latency_seconds", "Latency.");

  test("buckets given as an object are sorted by bound, +Inf included", () => {
    const h = mustNewConstHistogram(hDesc, 4, 12.5, { "+Inf": 4, "1": 2, "0.1": 1 });
    expect(h.buckets).toEqual([[0.1, 1], [1, 2], [Infinity, 4]]);
  });

  test("buckets given as a Map are sorted by bound", () => {
    const h = mustNewConstHistogram(hDesc, 3, 1, new Map([[10, 3], [0.5, 1]]));
    expect(h.buckets).toEqual([[0.5, 1], [10, 3]]);
  });

  test("quantiles are sorted, 0 and 1 included", () => {
    const s = mustNewConstSummary(newDesc("rpc_seconds", "RPC."), 10, 5, { 1: 9, 0: 0.1, 0.5: 2 });
    expect(s.quantiles).toEqual([[0, 0.1], [0.5, 2], [1, 9]]);
  });
});

describe("const metric construction errors name the metric", () => {
  const bad = newDesc("", "Bad.");
  const leDesc = newDesc("h_seconds", "H.", ["le"]);
  const leConstDesc = newDesc("h2_seconds", "H.", [], { le: "1" });
  const qDesc = newDesc("s_seconds", "S.", ["quantile"]);
  const sDesc = newDesc("s2_seconds", "S.");
  const cases: { name: string; build: () => unknown; want: string }[] = [
    {
      name: "too few label values",
      build: () => mustNewConstMetric(reqDesc, CounterValue, 1, "get"),
      want: `metric "app_requests_total": expected 2 label values (method, code), got 1`,
    },
    {
      name: "too many label values",
      build: () => mustNewConstMetric(newDesc("up", "Up."), GaugeValue, 1, "extra"),
      want: `metric "up": expected 0 label values, got 1`,
    },
    {
      name: "label value with a lone surrogate",
      build: () => mustNewConstMetric(reqDesc, CounterValue, 1, "get", "\uD83D"),
      want: `metric "app_requests_total": label code has a value that is not a valid UTF-8 string`,
    },
    {
      name: "value is not a number",
      build: () => mustNewConstMetric(sDesc, GaugeValue, "1" as unknown as number),
      want: `metric "s2_seconds": value must be a number, got string`,
    },
    {
      name: "unknown value type",
      build: () => mustNewConstMetric(sDesc, "histogram" as ValueType, 1),
      want: `metric "s2_seconds": unknown value type "histogram"`,
    },
    {
      name: "invalid Desc",
      build: () => mustNewConstMetric(bad, GaugeValue, 1),
      want: `"" is not a valid metric name`,
    },
    {
      name: "histogram with an le variable label",
      build: () => mustNewConstHistogram(leDesc, 1, 1, {}, "x"),
      want: `metric "h_seconds": label "le" is reserved in a histogram`,
    },
    {
      name: "histogram with an le const label",
      build: () => mustNewConstHistogram(leConstDesc, 1, 1, {}),
      want: `metric "h2_seconds": label "le" is reserved in a histogram`,
    },
    {
      name: "histogram count is not a number",
      build: () => mustNewConstHistogram(newDesc("h3", "H."), undefined as unknown as number, 1, {}),
      want: `metric "h3": count must be a number, got undefined`,
    },
    {
      name: "histogram bound is not a number",
      build: () => mustNewConstHistogram(newDesc("h4", "H."), 1, 1, { fast: 1 }),
      want: `metric "h4": bucket key is not a number`,
    },
    {
      name: "summary with a quantile label",
      build: () => mustNewConstSummary(qDesc, 1, 1, {}, "0.5"),
      want: `metric "s_seconds": label "quantile" is reserved in a summary`,
    },
    {
      name: "quantile above 1",
      build: () => mustNewConstSummary(sDesc, 1, 1, { 1.5: 3 }),
      want: `metric "s2_seconds": quantile 1.5 is outside [0, 1]`,
    },
    {
      name: "quantile below 0",
      build: () => mustNewConstSummary(sDesc, 1, 1, { "-0.1": 3 }),
      want: `metric "s2_seconds": quantile -0.1 is outside [0, 1]`,
    },
    {
      name: "quantile value is not a number",
      build: () => mustNewConstSummary(sDesc, 1, 1, { 0.5: "3" as unknown as number }),
      want: `metric "s2_seconds": quantile value must be a number, got string`,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      let got = "no error";
      try {
        c.build();
      } catch (e) {
        got = (e as Error).message;
      }
      // `want` is a part of the message: the invalid-Desc case is wrapped.
      if (!got.includes(c.want)) {
        throw new Error(`got error ${JSON.stringify(got)}, want one containing ${JSON.stringify(c.want)}`);
      }
    });
  }
});

describe("newInvalidMetric", () => {
  test("carries the error and the Desc", () => {
    const d = newDesc("temp_celsius", "Temperature.");
    const err = new Error("sensor unreachable");
    const m = newInvalidMetric(d, err);
    expect(m.type).toBe("invalid");
    expect(m.error).toBe(err);
    expect(m.desc).toBe(d);
  });
});

describe("the constructors of issue 16 refuse what client_golang refuses, naming the metric", () => {
  const c = newDesc("jobs_total", "Jobs.");
  const g = newDesc("queue_length", "Queue.");
  const h = newDesc("latency_seconds", "Latency.");
  const cases: { name: string; build: () => unknown; want: string }[] = [
    {
      name: "a created timestamp on a gauge (NewConstMetricWithCreatedTimestamp: counters only)",
      build: () => mustNewConstMetricWithCreatedTimestamp(g, GaugeValue, 1, 0),
      want: `metric "queue_length": created timestamps are only supported for counters`,
    },
    {
      name: "an exemplar on a gauge",
      build: () => newMetricWithExemplars(mustNewConstMetric(g, GaugeValue, 1), { value: 1, labels: { a: "b" } }),
      want: `metric "queue_length": cannot inject exemplar into a gauge; only counters and histograms take exemplars`,
    },
    {
      name: "no exemplars",
      build: () => newMetricWithExemplars(mustNewConstMetric(c, CounterValue, 1)),
      want: `metric "jobs_total": no exemplar was passed for newMetricWithExemplars`,
    },
    {
      name: "exemplar labels over 128 runes",
      build: () =>
        newMetricWithExemplars(mustNewConstMetric(c, CounterValue, 1), {
          value: 1,
          labels: { trace_id: "é".repeat(121) },
        }),
      want: `metric "jobs_total": exemplar labels have 129 runes, exceeding the limit of 128`,
    },
    {
      name: "a reserved exemplar label name",
      build: () => newMetricWithExemplars(mustNewConstMetric(c, CounterValue, 1), { value: 1, labels: { __x: "1" } }),
      want: `metric "jobs_total": exemplar label name "__x" is invalid`,
    },
    {
      name: "a native histogram schema outside [-4, 8]",
      build: () => mustNewConstNativeHistogram(h, 0, 0, {}, {}, 0, 9, 0, 0),
      want: `metric "latency_seconds": invalid native histogram schema 9`,
    },
    {
      name: "native buckets that do not add up to the count",
      build: () => mustNewConstNativeHistogram(h, 5, 1, { 0: 2 }, { 1: 1 }, 1, 0, 0, 0),
      want:
        `metric "latency_seconds": the sum of all bucket populations (4) does not match the count of observations (5)`,
    },
  ];
  for (const t of cases) {
    test(t.name, () => {
      expect(t.build).toThrow(t.want);
    });
  }

  test("with a NaN sum, the buckets may hold fewer than the count (validateCount)", () => {
    expect(mustNewConstNativeHistogram(h, 5, NaN, { 0: 2 }, {}, 0, 0, 0, 0).count).toBe(5);
  });

  test("a histogram's exemplars go to the first bucket whose bound is at least their value, +Inf past the last", () => {
    const m = newMetricWithExemplars(
      mustNewConstHistogram(h, 4, 2, { 0.5: 1, 1: 3 }),
      { value: 0.5, labels: { id: "a" }, timestamp: 1 },
      { value: 0.7, labels: { id: "b" }, timestamp: 2 },
      { value: 0.9, labels: { id: "c" }, timestamp: 3 },
      { value: 7, labels: { id: "d" }, timestamp: 4 },
    );
    expect(m.bucketExemplars!.map((e) => e?.labels.id)).toEqual(["a", "c", "d"]);
  });

  test("an exemplar's timestamp defaults to now; a metric's timestamp is whole milliseconds", () => {
    const before = Date.now();
    const m = newMetricWithExemplars(mustNewConstMetric(c, CounterValue, 1), { value: 1, labels: { id: "x" } });
    expect(m.exemplar!.timestampMs! >= before && m.exemplar!.timestampMs! <= Date.now()).toBe(true);
    expect(newMetricWithTimestamp(new Date(1500.7), mustNewConstMetric(c, CounterValue, 1)).timestampMs).toBe(1500);
  });
});
