// Ported in spirit from client_golang's vec_test.go: delete by values and by labels,
// partial deletes, reset, currying (and its errors), cardinality and unknown-label
// errors naming the metric and the labels, label values that are not UTF-8.
import { describe, expect, test } from "bun:test";
import { collectAndCompare, collectAndCount } from "../testutil/mod.ts";
import { newCounterVec } from "./counter.ts";
import { newGaugeVec } from "./gauge.ts";
import { Registry } from "./registry.ts";

const vec = () => newGaugeVec({ name: "test", help: "helpless" }, ["l1", "l2"]);

describe("delete", () => {
  test("deleteLabelValues and delete remove exactly one child", () => {
    const v = vec();
    v.withLabelValues("v1", "v2").set(42);
    expect(v.deleteLabelValues("v1", "v2")).toBe(true);
    expect(v.deleteLabelValues("v1", "v2")).toBe(false);
    v.with({ l1: "v1", l2: "v2" }).set(42);
    expect(v.delete({ l1: "v1" })).toBe(false); // too few labels
    expect(v.delete({ l1: "v1", l2: "v2", l3: "x" })).toBe(false); // unknown label
    expect(v.delete({ l2: "v2", l1: "v1" })).toBe(true);
    expect(v.delete({ l1: "v1", l2: "v2" })).toBe(false);
    expect(v.deleteLabelValues("v1")).toBe(false); // wrong count: false, not an error
  });

  test("deleting one child leaves its siblings under the same first value", async () => {
    const v = vec();
    v.withLabelValues("a", "1").set(1);
    v.withLabelValues("a", "2").set(2);
    v.deleteLabelValues("a", "1");
    expect(v.withLabelValues("a", "2").value).toBe(2);
    expect(await collectAndCount(v)).toBe(1);
    v.deleteLabelValues("a", "2");
    expect(await collectAndCount(v)).toBe(0);
    v.withLabelValues("a", "1").inc(); // recreated from zero
    expect(v.withLabelValues("a", "1").value).toBe(1);
  });

  test("deletePartialMatch removes every child with those labels", async () => {
    const v = newCounterVec({ name: "test_total", help: "h" }, ["l1", "l2", "l3"]);
    for (const [a, b, c] of [["x", "1", "p"], ["x", "2", "p"], ["y", "1", "p"], ["x", "1", "q"]]) {
      v.withLabelValues(a, b, c).inc();
    }
    expect(v.deletePartialMatch({ l9: "x" })).toBe(0); // unknown label matches nothing
    expect(v.deletePartialMatch({ l1: "x", l2: "1" })).toBe(2);
    expect(v.deletePartialMatch({ l3: "p" })).toBe(2);
    expect(await collectAndCount(v)).toBe(0);
  });

  test("reset removes every child, also through a curried vector", async () => {
    const v = vec();
    v.withLabelValues("a", "b").set(1);
    v.withLabelValues("c", "d").set(1);
    v.mustCurryWith({ l1: "a" }).reset();
    expect(await collectAndCount(v)).toBe(0);
  });
});

describe("errors name the metric and the labels", () => {
  test("wrong number of label values", () => {
    const v = vec();
    const { metric, error } = v.getMetricWithLabelValues("only-one");
    expect(metric).toBeUndefined();
    expect(error!.message).toBe(
      `metric "test": inconsistent label cardinality: expected 2 label values (l1, l2) but got 1 in ["only-one"]`,
    );
    expect(() => v.withLabelValues("a", "b", "c")).toThrow(
      `expected 2 label values (l1, l2) but got 3 in ["a","b","c"]`,
    );
  });

  test("unknown and missing label names", () => {
    const v = vec();
    expect(v.getMetricWith({ l1: "a", lx: "b" }).error!.message).toBe(
      `metric "test": unknown label name(s) "lx"; label name(s) "l2" missing in label map; the variable labels are l1, l2`,
    );
    expect(() => v.with({ l1: "a" })).toThrow(`label name(s) "l2" missing in label map`);
    expect(() => v.with({ l1: "a", l2: "b", l3: "c" })).toThrow(`unknown label name(s) "l3"`);
  });

  test("a label value that is not valid UTF-8 is refused, naming the label", () => {
    const v = vec();
    expect(v.getMetricWithLabelValues("a", "\udc00").error!.message).toBe(
      `metric "test": label l2: value "\\udc00" is not valid UTF-8`,
    );
    expect(v.getMetricWith({ l1: "\ud800", l2: "b" }).error!.message).toContain(`label l1: value`);
  });

  test("getMetricWith... returns the child when all is well", () => {
    const v = vec();
    const { metric, error } = v.getMetricWith({ l1: "a", l2: "b" });
    expect(error).toBeUndefined();
    metric!.set(3);
    expect(v.getMetricWithLabelValues("a", "b").metric).toBe(metric);
  });
});

describe("curryWith", () => {
  test("curried vectors share children and take the remaining values in order", async () => {
    const v = newCounterVec({ name: "test_total", help: "h" }, ["one", "two", "three"]);
    const c1 = v.mustCurryWith({ two: "B" });
    const c2 = c1.mustCurryWith({ one: "A" });
    c1.withLabelValues("a", "c").inc(); // one=a, three=c
    c2.withLabelValues("c").inc(); // one=A, three=c
    c2.with({ three: "d" }).add(5);
    expect(v.withLabelValues("a", "B", "c").value).toBe(1);
    expect(v.withLabelValues("A", "B", "d").value).toBe(5);
    await collectAndCompare(
      v,
      `
      # HELP test_total h
      # TYPE test_total counter
      test_total{one="A",three="c",two="B"} 1
      test_total{one="A",three="d",two="B"} 5
      test_total{one="a",three="c",two="B"} 1
    `,
    );
    expect(c2.deleteLabelValues("d")).toBe(true);
    expect(c2.delete({ three: "c" })).toBe(true);
    expect(await collectAndCount(v)).toBe(1);
  });

  test("a curried label may not be passed again", () => {
    const c = vec().mustCurryWith({ l1: "x" });
    expect(c.getMetricWith({ l1: "y", l2: "z" }).error!.message).toBe(
      `metric "test": label name "l1" is already curried`,
    );
    expect(c.curryWith({ l1: "y" }).error!.message).toBe(`metric "test": label name "l1" is already curried`);
    expect(c.getMetricWithLabelValues("a", "b").error!.message).toContain("expected 1 label values (l2) but got 2");
  });

  test("currying an unknown label is an error naming it", () => {
    expect(vec().curryWith({ nope: "x" }).error!.message).toBe(
      `metric "test": label name "nope" is not a variable label, found during currying`,
    );
    expect(() => vec().mustCurryWith({ nope: "x" })).toThrow(`"nope"`);
  });

  test("a curried vector's partial delete keeps to its curried values; a curried label matches nothing", () => {
    const v = vec();
    v.withLabelValues("a", "1").set(1);
    v.withLabelValues("b", "1").set(1);
    const c = v.mustCurryWith({ l1: "a" });
    expect(c.deletePartialMatch({ l1: "a" })).toBe(0);
    expect(c.deletePartialMatch({ l2: "1" })).toBe(1);
    expect(v.withLabelValues("b", "1").value).toBe(1);
  });
});

describe("names", () => {
  test("a metric with state goes by its metric name (and constant labels) as a collector", () => {
    const reg = new Registry();
    reg.mustRegister(
      newCounterVec({ name: "a_total", help: "h" }, ["x"]),
      newCounterVec({ name: "b_total", help: "h", constLabels: { shard: "2", app: "x" } }, ["x"]),
      newGaugeVec({ name: "c", help: "h" }, []),
    );
    expect(reg.collectors().map((c) => c.name)).toEqual(["a_total", 'b_total{app="x",shard="2"}', "c"]);
  });
});

describe("lookups", () => {
  test("the same child whatever the number of labels, zero to five", () => {
    for (let n = 0; n <= 5; n++) {
      const names = Array.from({ length: n }, (_, i) => `l${i}`);
      const v = newCounterVec({ name: "t_total", help: "h" }, names);
      const values = names.map((l) => `${l}-v`);
      const a = v.withLabelValues(...values);
      a.inc();
      expect(v.withLabelValues(...values)).toBe(a);
      expect(v.with(Object.fromEntries(names.map((l, i) => [l, values[i]])))).toBe(a);
      if (n > 0) expect(v.withLabelValues(...values.map((x) => x + "!"))).not.toBe(a);
    }
  });

  test("children are collected in creation order (stable between scrapes)", () => {
    const v = newCounterVec({ name: "t_total", help: "h" }, ["x"]);
    for (const x of ["c", "a", "b"]) v.withLabelValues(x);
    const order: string[] = [];
    v.collect((m) => order.push(m.labelValues[0]));
    expect(order).toEqual(["c", "a", "b"]);
  });
});
