// How to test a collector: compare what it exposes with the exposition you expect,
// and lint its names as `promtool check metrics` would. Copy this for your own.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { newFooCollector } from "./collector.ts";
import { collectAndCompare, collectAndFormat, collectAndLint } from "./testutil/mod.ts";

test("fooCollector exposes foo_metric and bar_metric", async () => {
  await collectAndCompare(
    newFooCollector(),
    `
    # HELP foo_metric Shows whether a foo has occurred in our cluster
    # TYPE foo_metric counter
    foo_metric 1
    # HELP bar_metric Shows whether a bar has occurred in our cluster
    # TYPE bar_metric counter
    bar_metric 1
  `,
  );
});

test("fooCollector's names pass promlint but for the tutorial's two counters", async () => {
  // The Go tutorial names its counters foo_metric and bar_metric, without the
  // "_total" that promlint asks of counters; this kit keeps its names so that its
  // output is the tutorial's. A collector of your own should expect [] here.
  expect(await collectAndLint(newFooCollector())).toEqual([
    { metric: "bar_metric", text: 'counter metrics should have "_total" suffix' },
    { metric: "foo_metric", text: 'counter metrics should have "_total" suffix' },
  ]);
});

test("fooCollector's text exposition is the golden file, byte for byte", async () => {
  const golden = readFileSync(new URL("./testdata/foo_collector.golden.txt", import.meta.url), "utf8");
  expect(await collectAndFormat(newFooCollector(), "text")).toBe(golden);
});
