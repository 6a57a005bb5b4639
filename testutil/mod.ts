/**
 * Helpers for testing collectors, as Go's `prometheus/testutil` and its `promlint`:
 * compare what a collector exposes with an expected text, count its series, read a
 * single value, format its output, and lint its names the way
 * `promtool check metrics` does — with no Go tool needed, under `bun test` and
 * `deno test` alike.
 *
 * Every `collectAnd*` helper registers the collector in a throw-away Registry, so a
 * collector that would be refused at registration, or whose gather reports an error
 * (a failing collect, duplicate series), fails the test with the registry's message.
 *
 * @example
 * ```ts
 * import { expect, test } from "bun:test";
 * import { collectAndCompare, collectAndLint } from "./testutil/mod.ts";
 *
 * test("fooCollector", async () => {
 *   await collectAndCompare(newFooCollector(), `
 *     # HELP foo_metric Shows whether a foo has occurred in our cluster
 *     # TYPE foo_metric counter
 *     foo_metric 1
 *   `, "foo_metric");
 *   expect(await collectAndLint(newFooCollector(), "foo_metric")).toEqual([
 *     { metric: "foo_metric", text: 'counter metrics should have "_total" suffix' },
 *   ]);
 * });
 * ```
 * @module
 */
export { collectAndCompare, collectAndCount, collectAndFormat, toFloat64 } from "./testutil.ts";
export { collectAndLint, lint, type Problem } from "./promlint.ts";
