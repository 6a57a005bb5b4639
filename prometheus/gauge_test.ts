// Ported in spirit from client_golang's gauge_test.go: every way to move a gauge, the
// func gauges, and vectors of gauges.
import { describe, expect, test } from "bun:test";
import { collectAndCompare, toFloat64 } from "../testutil/mod.ts";
import { newGauge, newGaugeFunc, newGaugeVec, newUntypedFunc } from "./gauge.ts";
import { isConstValue, type Metric } from "./value.ts";

describe("newGauge", () => {
  test("set, inc, dec, add and sub", async () => {
    const g = newGauge({ name: "test_gauge", help: "h", constLabels: { a: "1" } });
    const steps: [string, () => void, number][] = [
      ["set 5", () => g.set(5), 5],
      ["inc", () => g.inc(), 6],
      ["dec", () => g.dec(), 5],
      ["add -2.5", () => g.add(-2.5), 2.5],
      ["sub 10", () => g.sub(10), -7.5],
      ["sub -7.5", () => g.sub(-7.5), 0],
      ["set NaN", () => g.set(NaN), NaN],
    ];
    for (const [name, step, want] of steps) {
      step();
      expect({ name, got: await toFloat64(g) }).toEqual({ name, got: want });
    }
  });

  test("setToCurrentTime sets Unix seconds", async () => {
    const g = newGauge({ name: "last_run_timestamp_seconds", help: "h" });
    const before = Date.now() / 1000;
    g.setToCurrentTime();
    const got = await toFloat64(g);
    expect(got).toBeGreaterThanOrEqual(before);
    expect(got).toBeLessThanOrEqual(Date.now() / 1000);
  });

  test("is collected as a const metric, the registry's column fast path", () => {
    const g = newGauge({ name: "g", help: "h" });
    const got: Metric[] = [];
    g.collect((m) => got.push(m));
    expect(isConstValue(got[0])).toBe(true);
  });
});

describe("newGaugeVec", () => {
  test("children move apart", async () => {
    const v = newGaugeVec({ name: "room_temperature_celsius", help: "Temperature." }, ["room"]);
    v.withLabelValues("kitchen").set(21.5);
    v.withLabelValues("attic").set(30);
    v.withLabelValues("attic").sub(1);
    await collectAndCompare(
      v,
      `
      # HELP room_temperature_celsius Temperature.
      # TYPE room_temperature_celsius gauge
      room_temperature_celsius{room="attic"} 29
      room_temperature_celsius{room="kitchen"} 21.5
    `,
    );
  });
});

describe("newGaugeFunc and newUntypedFunc", () => {
  test("read their function at every collect", async () => {
    let x = 3;
    const g = newGaugeFunc({ name: "tasks", help: "Tasks." }, () => x);
    const u = newUntypedFunc({ name: "legacy", help: "Legacy." }, () => x * 2);
    expect(await toFloat64(g)).toBe(3);
    x = 4;
    expect(await toFloat64(g)).toBe(4);
    await collectAndCompare(
      u,
      `
      # HELP legacy Legacy.
      # TYPE legacy untyped
      legacy 8
    `,
    );
  });

  test("a function that throws fails that collect only", async () => {
    const g = newGaugeFunc({ name: "broken", help: "h" }, () => {
      throw new Error("sensor gone");
    });
    await expect(toFloat64(g)).rejects.toThrow("sensor gone");
  });

  test("something that is not a function is refused at construction", () => {
    expect(() => newGaugeFunc({ name: "g", help: "h" }, 3 as unknown as () => number)).toThrow("is not a function");
  });
});
