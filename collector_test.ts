// How to test a collector: register it in a fresh Registry, gather, and compare the
// text exposition with a golden file, byte for byte.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { newFooCollector } from "./collector.ts";
import { encode, Registry } from "./prometheus/mod.ts";

test("fooCollector exposes foo_metric and bar_metric", async () => {
  const registry = new Registry();
  registry.mustRegister(newFooCollector());

  const { families, errors } = await registry.gather();

  expect(errors).toEqual([]);
  const want = readFileSync(new URL("./testdata/foo_collector.golden.txt", import.meta.url), "utf8");
  expect(encode(families, "text")).toBe(want);
});
