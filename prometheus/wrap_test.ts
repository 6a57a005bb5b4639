// Ported in spirit from client_golang's wrap_test.go: labels and prefixes added to
// Descs and metrics, wrappers wrapped again, clashes refused, registration errors
// naming the collector the user registered, unregistering through the wrapper.
import { describe, expect, test } from "bun:test";
import { newCounter, newCounterVec } from "./counter.ts";
import { newDesc } from "./desc.ts";
import { encode } from "./expfmt.ts";
import { newGauge } from "./gauge.ts";
import { newHistogram } from "./histogram.ts";
import { AlreadyRegisteredError, Registry } from "./registry.ts";
import { CounterValue, isConstValue, type Metric, mustNewConstMetric } from "./value.ts";
import { wrapRegistererWith, wrapRegistererWithPrefix } from "./wrap.ts";

async function text(reg: Registry): Promise<string> {
  const g = await reg.gather();
  expect(g.errors.map((e) => e.message)).toEqual([]);
  const out = encode(g.families);
  g.done();
  return out;
}

describe("wrapRegistererWith and wrapRegistererWithPrefix", () => {
  test("labels and prefix reach every series, whatever its kind", async () => {
    const reg = new Registry();
    const wrapped = wrapRegistererWithPrefix("pre_", wrapRegistererWith({ foo: "bar" }, reg));
    const c = newCounter({ name: "simple_counter", help: "This counts.", constLabels: { other: "x" } });
    const v = newCounterVec({ name: "vec_total", help: "Vec." }, ["code"]);
    const h = newHistogram({ name: "h_seconds", help: "H.", buckets: [1] });
    wrapped.mustRegister(c, v, h);
    c.inc();
    v.withLabelValues("200").add(2);
    h.observe(0.5);
    expect(await text(reg)).toBe(
      [
        "# HELP pre_h_seconds H.",
        "# TYPE pre_h_seconds histogram",
        'pre_h_seconds_bucket{foo="bar",le="1"} 1',
        'pre_h_seconds_bucket{foo="bar",le="+Inf"} 1',
        'pre_h_seconds_sum{foo="bar"} 0.5',
        'pre_h_seconds_count{foo="bar"} 1',
        "# HELP pre_simple_counter This counts.",
        "# TYPE pre_simple_counter counter",
        'pre_simple_counter{foo="bar",other="x"} 1',
        "# HELP pre_vec_total Vec.",
        "# TYPE pre_vec_total counter",
        'pre_vec_total{code="200",foo="bar"} 2',
        "",
      ].join("\n"),
    );
  });

  test("a wrapped metric keeps its fields (created time) and a const metric stays one", () => {
    const reg = new Registry();
    const desc = newDesc("const_total", "h");
    const got: Metric[] = [];
    const c = newCounter({ name: "c_total", help: "h" });
    const inner = {
      name: "inner",
      describe: (ch: (d: typeof desc) => void) => ch(desc),
      collect: (ch: (m: Metric) => void) => ch(mustNewConstMetric(desc, CounterValue, 1)),
    };
    const w = wrapRegistererWith({ a: "b" }, {
      register: (x) => reg.register(x),
      mustRegister: () => {},
      unregister: () => false,
    });
    w.register(c);
    w.register(inner);
    for (const { collector } of reg.collectors()) collector.collect((m) => got.push(m), new AbortController().signal);
    expect(got[0].desc.constLabels).toEqual({ a: "b" });
    expect(got[0].createdTimestampMs).toBeGreaterThan(0);
    expect(isConstValue(got[1])).toBe(true);
    expect(got[1].desc.fqName).toBe("const_total");
  });

  test("a label the metric has already is refused at registration", () => {
    const reg = new Registry();
    const c = newCounter({ name: "c_total", help: "h", constLabels: { foo: "x" } });
    expect(() => wrapRegistererWith({ foo: "bar" }, reg).register(c)).toThrow(
      `attempted wrapping with already existing label name "foo"`,
    );
    const v = newCounterVec({ name: "v_total", help: "h" }, ["foo"]);
    expect(() => wrapRegistererWith({ foo: "bar" }, reg).register(v)).toThrow(`duplicate label name "foo"`);
  });

  test("registering twice names the collector the user registered, so existing ?? created works", () => {
    const reg = new Registry();
    const w = wrapRegistererWith({ shard: "1" }, reg);
    const first = newGauge({ name: "g", help: "h" });
    w.register(first);
    let err: unknown;
    try {
      w.register(newGauge({ name: "g", help: "h" }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AlreadyRegisteredError);
    expect((err as AlreadyRegisteredError).existingCollector).toBe(first);
    // Another shard is another series: allowed.
    wrapRegistererWith({ shard: "2" }, reg).register(newGauge({ name: "g", help: "h" }));
  });

  test("unregister through the wrapper removes what it registered, checked or not", async () => {
    const reg = new Registry();
    const w = wrapRegistererWith({ a: "1" }, reg);
    const g = newGauge({ name: "g", help: "h" });
    const desc = newDesc("unchecked", "h");
    const unchecked = {
      name: "unchecked",
      describe: () => {},
      collect: (ch: (m: Metric) => void) => ch(mustNewConstMetric(desc, CounterValue, 1)),
    };
    w.mustRegister(g, unchecked);
    expect(await text(reg)).toContain('unchecked{a="1"} 1');
    expect(w.unregister(g)).toBe(true);
    expect(w.unregister(unchecked)).toBe(true);
    expect(w.unregister(g)).toBe(false);
    expect(await text(reg)).toBe("");
  });

  test("a wrapped collector's name has the prefix and the labels: one metric through two wrappers goes by two names", () => {
    const reg = new Registry();
    wrapRegistererWith({ shard: "1" }, reg).register(newGauge({ name: "g", help: "h", constLabels: { a: "x" } }));
    wrapRegistererWithPrefix("p_", wrapRegistererWith({ shard: "2" }, reg)).register(
      newGauge({ name: "g", help: "h", constLabels: { a: "x" } }),
    );
    expect(reg.collectors().map((c) => c.name)).toEqual(['g{a="x",shard="1"}', 'p_g{a="x",shard="2"}']);
  });

  test("a wrapped selectable collector keeps its own name, with the prefix: it names a flag", () => {
    const reg = new Registry();
    const desc = newDesc("up", "h");
    const mk = (name: string) => ({ name, describe: (ch: (d: typeof desc) => void) => ch(desc), collect: () => {} });
    wrapRegistererWith({ shard: "1" }, reg).register(mk("foo"));
    wrapRegistererWithPrefix("p_", reg).register(mk("bar"));
    expect(reg.collectors().map((c) => c.name)).toEqual(["foo", "p_bar"]);
    expect(() => wrapRegistererWith({ shard: "2" }, reg).register(mk("foo"))).toThrow(/two collectors named "foo"/);
  });

  test("a null registerer makes registration do nothing, as Go's nil", () => {
    const w = wrapRegistererWith({ a: "1" }, null);
    w.register(newGauge({ name: "g", help: "h" }));
    expect(w.unregister(newGauge({ name: "g", help: "h" }))).toBe(false);
  });
});
