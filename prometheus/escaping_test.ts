// Escaping as prometheus/common's model: TestEscapeName of model/metric_test.go
// (v0.70.1) as data, then the collision check the handler runs per scrape.
import { describe, expect, test } from "bun:test";
import { newDesc } from "./desc.ts";
import { dropEscapingCollisions, escapeName, escapeNameIfNeeded, isLegacyName } from "./escaping.ts";
import type { MetricFamily } from "./registry.ts";

// [name, input, underscores, dots, values], from model/metric_test.go TestEscapeName.
const escapeNameCases: [string, string, string, string, string][] = [
  ["empty string", "", "", "", ""],
  [
    "legacy valid name",
    "no:escaping_required",
    "no:escaping_required",
    "no:escaping__required",
    "no:escaping_required",
  ],
  [
    "name with dots",
    "mysystem.prod.west.cpu.load",
    "mysystem_prod_west_cpu_load",
    "mysystem_dot_prod_dot_west_dot_cpu_dot_load",
    "U__mysystem_2e_prod_2e_west_2e_cpu_2e_load",
  ],
  [
    "name with dots and underscore",
    "mysystem.prod.west.cpu.load_total",
    "mysystem_prod_west_cpu_load_total",
    "mysystem_dot_prod_dot_west_dot_cpu_dot_load__total",
    "U__mysystem_2e_prod_2e_west_2e_cpu_2e_load__total",
  ],
  ["name with dots and colon", "http.status:sum", "http_status:sum", "http_dot_status:sum", "U__http_2e_status:sum"],
  ["name with spaces and emoji", "label with 😱", "label_with__", "label__with____", "U__label_20_with_20__1f631_"],
  ["name with unicode characters > 0x100", "花火", "__", "____", "U___82b1__706b_"],
  [
    "name with spaces and edge-case value",
    "label with \u0100",
    "label_with__",
    "label__with____",
    "U__label_20_with_20__100_",
  ],
];

describe("escapeName (model/metric_test.go TestEscapeName)", () => {
  for (const [name, input, underscores, dots, values] of escapeNameCases) {
    test(name, () => {
      expect([escapeName(input, "underscores"), escapeName(input, "dots"), escapeName(input, "values")]).toEqual([
        underscores,
        dots,
        values,
      ]);
      expect(escapeName(input, "allow-utf-8")).toBe(input);
    });
  }

  test("a leading digit is not a legacy character: escaped", () => {
    expect(escapeName("1st.place", "underscores")).toBe("_st_place");
    expect(isLegacyName("1st")).toBe(false);
  });

  test("legacy names are left alone by every scheme when written (EscapeMetricFamily), dots included", () => {
    for (const s of ["underscores", "dots", "values", "allow-utf-8"] as const) {
      expect(escapeNameIfNeeded("a_b:c", s)).toBe("a_b:c");
    }
  });
});

function family(name: string, labels: string[] = []): MetricFamily {
  const desc = newDesc(name, "Help.", labels);
  return { name, help: "Help.", type: "gauge", desc, metrics: [] };
}

describe("dropEscapingCollisions", () => {
  test("two names that escape to one legacy name: the later family is left out, the error names both", () => {
    const fams = [family("a.b"), family("a_b"), family("c")];
    const got = dropEscapingCollisions(fams, "underscores");
    expect(got.families.map((f) => f.name)).toEqual(["a.b", "c"]);
    expect(got.errors.map((e) => e.message)).toEqual([
      `collected metric names "a.b" and "a_b" both escape to "a_b" (escaping=underscores); "a_b" is left out`,
    ]);
    expect(got.errors[0].family).toBe("a_b");
  });

  test("under allow-utf-8 nothing collides; under dots and values these two do not either", () => {
    const fams = [family("a.b"), family("a_b")];
    for (const s of ["allow-utf-8", "dots", "values"] as const) {
      const got = dropEscapingCollisions(fams, s);
      expect([s, got.families.length, got.errors.length]).toEqual([s, 2, 0]);
    }
  });

  test("dots: a_dot_b (legacy, kept as it is) and a.b (escaped to a_dot_b) collide", () => {
    const got = dropEscapingCollisions([family("a.b"), family("a_dot_b")], "dots");
    expect(got.errors.map((e) => e.family)).toEqual(["a_dot_b"]);
  });

  test("two label names of one family that escape to one: the family is left out, naming both", () => {
    const got = dropEscapingCollisions([family("m", ["service.name", "service_name"])], "underscores");
    expect(got.families).toEqual([]);
    expect(got.errors.map((e) => e.message)).toEqual([
      `metric "m": label names "service.name" and "service_name" both escape to "service_name" (escaping=underscores); the family is left out`,
    ]);
  });

  test("no collision: the same array comes back", () => {
    const fams = [family("http.requests"), family("other")];
    expect(dropEscapingCollisions(fams, "underscores").families).toBe(fams);
  });
});
