// promauto: making and registering in one step, as client_golang's promauto.
import { describe, expect, test } from "bun:test";
import { defaultRegistry } from "./default_registry.ts";
import * as promauto from "./promauto.ts";
import { AlreadyRegisteredError, Registry } from "./registry.ts";

describe("promauto", () => {
  test("with(registry) makes and registers in one step", async () => {
    const reg = new Registry();
    const f = promauto.with(reg);
    const c = f.newCounter({ name: "jobs_total", help: "Jobs." });
    const v = f.newGaugeVec({ name: "temp", help: "T." }, ["room"]);
    f.newSummary({ name: "s", help: "S." });
    c.inc();
    v.withLabelValues("a").set(2);
    const g = await reg.gather();
    expect(g.families.map((x) => x.name)).toEqual(["jobs_total", "s", "temp"]);
    expect(() => f.newCounter({ name: "jobs_total", help: "Jobs." })).toThrow(AlreadyRegisteredError);
  });

  test("with(null) makes without registering; the module's functions register with the default registry", () => {
    const h = promauto.with(null).newHistogram({ name: "promauto_test_h", help: "h" });
    expect(defaultRegistry.collectors().some((x) => x.collector === h)).toBe(false);
    const c = promauto.newCounter({ name: "promauto_test_total", help: "h" });
    try {
      expect(defaultRegistry.collectors().some((x) => x.collector === c)).toBe(true);
    } finally {
      defaultRegistry.unregister(c);
    }
  });
});
