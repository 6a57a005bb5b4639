// Gatherers, ported in spirit from client_golang's registry_test.go (its Gatherers
// cases): merging, sorting, and the consistency checks across gatherers.
import { describe, expect, test } from "bun:test";
import { newCounter, newCounterVec } from "./counter.ts";
import { encode } from "./expfmt.ts";
import { newGauge } from "./gauge.ts";
import { Gatherers } from "./gatherers.ts";
import { newHistogram } from "./histogram.ts";
import { Registry } from "./registry.ts";

describe("Gatherers", () => {
  test("families of several registries served as one, merged and sorted", async () => {
    const a = new Registry(), b = new Registry();
    const va = newCounterVec({ name: "requests_total", help: "Requests." }, ["shard"]);
    const vb = newCounterVec({ name: "requests_total", help: "Requests." }, ["shard"]);
    a.register(va);
    b.register(vb);
    va.withLabelValues("2").inc();
    vb.withLabelValues("1").add(5);
    b.register(newGauge({ name: "aaa", help: "First." }));
    const g = await new Gatherers([a, b]).gather();
    expect(g.errors).toEqual([]);
    expect(encode(g.families)).toBe(
      [
        "# HELP aaa First.",
        "# TYPE aaa gauge",
        "aaa 0",
        "# HELP requests_total Requests.",
        "# TYPE requests_total counter",
        'requests_total{shard="1"} 5',
        'requests_total{shard="2"} 1',
        "",
      ].join("\n"),
    );
    g.done();
  });

  test("the same series from two gatherers is reported and its family left out", async () => {
    const a = new Registry(), b = new Registry();
    a.register(newCounter({ name: "dup_total", help: "h" }));
    b.register(newCounter({ name: "dup_total", help: "h" }));
    b.register(newGauge({ name: "fine", help: "h" }));
    const g = await new Gatherers([a, b]).gather();
    expect(g.families.map((f) => f.name)).toEqual(["fine"]);
    expect(g.errors.map((e) => e.message)).toEqual([
      "collector gatherer #2: collected metric dup_total{} was collected before with the same name and label values",
    ]);
  });

  test("other help or another type than the first gatherer's is reported", async () => {
    const a = new Registry(), b = new Registry(), c = new Registry();
    a.register(newCounter({ name: "x", help: "Help A." }));
    b.register(newCounter({ name: "x", help: "Help B.", constLabels: { b: "1" } }));
    c.register(newGauge({ name: "x", help: "Help A.", constLabels: { c: "1" } }));
    const g = await new Gatherers([a, b, c]).gather();
    expect(g.errors.map((e) => e.message)).toEqual([
      'gathered metric family x has help "Help B." but should have "Help A."',
      "gathered metric family x has type gauge but should have counter",
    ]);
    expect(g.families[0].metrics.length).toBe(1);
  });

  test("a name colliding with a histogram's _count is reported", async () => {
    const a = new Registry(), b = new Registry();
    a.register(newHistogram({ name: "h", help: "h" }));
    b.register(newGauge({ name: "h_count", help: "h" }));
    const g = await new Gatherers([a, b]).gather();
    expect(g.families.map((f) => f.name)).toEqual(["h"]);
    expect(g.errors[0].message).toContain(
      "collected metric named h_count collides with previously collected histogram named h",
    );
  });

  test("each gatherer's own errors come through, numbered", async () => {
    const a = new Registry(), b = new Registry();
    b.register({ name: "broken", describe: () => {}, collect: () => Promise.reject(new Error("boom")) });
    const failing = { gather: () => Promise.reject(new Error("unreachable")) };
    const g = await new Gatherers([a, b, failing]).gather();
    const messages = g.errors.map((e) => e.message);
    expect(messages.length).toBe(2);
    expect(messages[0]).toMatch(/^\[from Gatherer #2\] .*boom/);
    expect(messages[1]).toBe("[from Gatherer #3] unreachable");
  });
});
