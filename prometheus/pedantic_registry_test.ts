// The pedantic registry, as client_golang's pedantic checks: metrics of Descs no
// collector described are reported even from unchecked collectors.
import { describe, expect, test } from "bun:test";
import { newCounter } from "./counter.ts";
import { newDesc } from "./desc.ts";
import { newPedanticRegistry } from "./pedantic_registry.ts";
import { type AlreadyRegisteredError, Registry } from "./registry.ts";
import { CounterValue, type Metric, mustNewConstMetric } from "./value.ts";

describe("newPedanticRegistry", () => {
  test("a metric of a Desc no collector described is reported, naming it", async () => {
    const reg = newPedanticRegistry();
    const described = newDesc("described_total", "h");
    const sneaky = newDesc("sneaky_total", "h");
    // Unchecked (describes nothing): a plain Registry cannot check it.
    const unchecked = {
      name: "unchecked",
      describe: () => {},
      collect: (ch: (m: Metric) => void) => ch(mustNewConstMetric(sneaky, CounterValue, 1)),
    };
    const fine = {
      name: "fine",
      describe: (ch: (d: typeof described) => void) => ch(described),
      collect: (ch: (m: Metric) => void) => ch(mustNewConstMetric(described, CounterValue, 2)),
    };
    reg.mustRegister(unchecked, fine);
    const g = await reg.gather();
    expect(g.families.map((f) => f.name)).toEqual(["described_total"]);
    expect(g.errors.map((e) => e.message)).toEqual([
      `collector unchecked: metric sneaky_total: collected metric sneaky_total with unregistered descriptor ${sneaky}`,
    ]);
    const plain = new Registry();
    plain.mustRegister(unchecked);
    expect((await plain.gather()).errors).toEqual([]);
  });

  test("registration errors and collectors() name what the user registered", () => {
    const reg = newPedanticRegistry();
    const c = newCounter({ name: "c_total", help: "h" });
    reg.register(c);
    let existing: unknown;
    try {
      reg.register(newCounter({ name: "c_total", help: "h" }));
    } catch (e) {
      existing = (e as AlreadyRegisteredError).existingCollector;
    }
    expect(existing).toBe(c);
    expect(reg.collectors().map((x) => x.collector)).toEqual([c]);
    expect(reg.unregister(c)).toBe(true);
    expect(reg.collectors()).toEqual([]);
  });
});
