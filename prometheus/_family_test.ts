// A family of metrics with state (histograms, summaries, counters sent as objects) of
// 64 series or more is not sorted and checked again when its series are the same
// objects in the same places as at the last gather (_family.ts, SortMemo.sent): these
// tests change what a collector sends between gathers and expect what a first gather
// would find.
import { describe, expect, test } from "bun:test";
import type { Collector } from "./collector.ts";
import { newDesc } from "./desc.ts";
import { type Histogram, newHistogramVec } from "./histogram.ts";
import { Registry } from "./registry.ts";
import { type HistogramMetric, labelValueAt, type Metric } from "./value.ts";

const n = 100;

/** Sends the histograms `pick()` returns, in that order: a collector of metrics with state. */
function sending(pick: () => Histogram[]): Collector {
  const desc = newDesc("h", "Histograms.", ["id"]);
  return {
    name: "sending",
    describe: (ch) => ch(desc),
    collect: (ch: (m: Metric) => void) => {
      for (const h of pick()) h.collect(ch);
    },
  };
}

function children(): Histogram[] {
  const vec = newHistogramVec({ name: "h", help: "Histograms." }, ["id"]);
  // Sent in this order, which is not the sorted one ("i10" < "i2").
  return Array.from({ length: n }, (_, i) => vec.withLabelValues(`i${i}`));
}

async function ids(r: Registry): Promise<string[]> {
  const g = await r.gather();
  try {
    if (g.errors.length) throw g.errors[0];
    return g.families[0].metrics.map((m) => labelValueAt(m, 0));
  } finally {
    g.done();
  }
}

const sorted = (xs: string[]) => [...xs].sort();

describe("a family of metrics with state, gathered again", () => {
  test("the same series: sorted as the first time, their values the new ones", async () => {
    const hs = children();
    const r = new Registry();
    r.mustRegister(sending(() => hs));
    const first = await ids(r);
    expect(first).toEqual(sorted(hs.map((_, i) => `i${i}`)));
    hs[7].observe(2);
    const g = await r.gather();
    expect(g.families[0].metrics.map((m) => labelValueAt(m, 0))).toEqual(first);
    const seven = g.families[0].metrics.find((m) => labelValueAt(m, 0) === "i7") as HistogramMetric;
    expect(seven.count).toBe(1);
    g.done();
  });

  test("the same series in another order, one more, one fewer: sorted again", async () => {
    let hs = children();
    const r = new Registry();
    r.mustRegister(sending(() => hs));
    await ids(r);
    hs = [...hs].reverse();
    expect(await ids(r)).toEqual(sorted(hs.map((h) => h.labelValues[0])));
    const extra = newHistogramVec({ name: "h", help: "Histograms." }, ["id"]).withLabelValues("a-first");
    hs = [...hs, extra];
    expect((await ids(r))[0]).toBe("a-first");
    hs = hs.slice(1);
    expect(await ids(r)).toEqual(sorted(hs.map((h) => h.labelValues[0])));
  });

  test("a series sent twice in place of another, the count unchanged: the duplicate is found", async () => {
    let hs = children();
    const r = new Registry();
    r.mustRegister(sending(() => hs));
    await ids(r);
    hs = [...hs];
    hs[5] = hs[4];
    const g = await r.gather();
    expect(g.errors.map((e) => e.message)).toEqual([
      'collector sending: collected metric h{id="i4"} was collected before with the same name and label values',
    ]);
    g.done();
  });
});
