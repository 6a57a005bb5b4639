import { expect, test } from "bun:test";
import { CounterValue, type Desc, GaugeValue, type Metric, mustNewConstMetric, newDesc } from "../prometheus/mod.ts";
import { newFooCollector } from "../collector.ts";
import { lintCorpus } from "./_corpus.ts";
import { collectAndLint, lint, type Problem } from "./mod.ts";

const show = (ps: Problem[]) => ps.map((p) => `${p.metric} ${p.text}`);

// Every input of testdata/lint: the findings its `# want:` lines list, in order, or
// the parse error its `# want-error:` line names.
for (const c of lintCorpus()) {
  test(`lint ${c.name}.prom`, () => {
    if (c.wantError !== undefined) {
      expect(() => lint(c.text)).toThrow(c.wantError);
      return;
    }
    expect(show(lint(c.text))).toEqual(c.want);
  });
}

test("the lint corpus has at least 40 inputs, good and bad", () => {
  const corpus = lintCorpus();
  expect(corpus.length).toBeGreaterThanOrEqual(40);
  expect(corpus.filter((c) => c.want.length === 0 && c.wantError === undefined).length).toBeGreaterThanOrEqual(10);
  expect(corpus.filter((c) => c.want.length > 0).length).toBeGreaterThanOrEqual(30);
});

test("lint sorts problems by metric, then text", () => {
  const got = lint("zz_ms 1\n# HELP a_count x\n# TYPE a_count counter\na_count 1\n");
  expect(show(got)).toEqual([
    `a_count counter metrics should have "_total" suffix`,
    `a_count non-histogram and non-summary metrics should not have "_count" suffix`,
    "zz_ms metric names should not contain abbreviated units",
    "zz_ms no help text",
  ]);
});

test("lint takes the first unit word of a name, where promtool 2.42 picks one at random", () => {
  // promtool may also report nothing here, when it happens to look at "seconds" first.
  const text = "# HELP a_kilobytes_seconds x\n# TYPE a_kilobytes_seconds gauge\na_kilobytes_seconds 1\n";
  expect(show(lint(text))).toEqual([`a_kilobytes_seconds use base unit "bytes" instead of "kilobytes"`]);
  const swapped = text.replaceAll("a_kilobytes_seconds", "a_seconds_kilobytes");
  expect(lint(swapped)).toEqual([]);
});

test("lint of an empty exposition finds nothing", () => {
  expect(lint("")).toEqual([]);
});

const fixed = (name: string, descs: Desc[], collect: (ch: (m: Metric) => void) => void) => ({
  name,
  describe: (ch: (d: Desc) => void) => descs.forEach(ch),
  collect,
});

test("collectAndLint reports the tutorial's counters without _total", async () => {
  expect(await collectAndLint(newFooCollector())).toEqual([
    { metric: "bar_metric", text: `counter metrics should have "_total" suffix` },
    { metric: "foo_metric", text: `counter metrics should have "_total" suffix` },
  ]);
});

test("collectAndLint lints only the families named", async () => {
  expect(await collectAndLint(newFooCollector(), "foo_metric")).toEqual([
    { metric: "foo_metric", text: `counter metrics should have "_total" suffix` },
  ]);
  expect(await collectAndLint(newFooCollector(), "no_such_metric")).toEqual([]);
});

test("collectAndLint finds camelCase labels and empty help as promtool would on /metrics", async () => {
  const d = newDesc("app_requests_total", "", ["statusCode"]);
  const c = fixed("app", [d], (ch) => {
    ch(mustNewConstMetric(d, CounterValue, 1, "200"));
    ch(mustNewConstMetric(d, CounterValue, 1, "500"));
  });
  expect(show(await collectAndLint(c))).toEqual([
    "app_requests_total label names should be written in 'snake_case' not 'camelCase'",
    "app_requests_total label names should be written in 'snake_case' not 'camelCase'",
    "app_requests_total no help text",
  ]);
});

test("collectAndLint of a well-named collector is empty", async () => {
  const d = newDesc("app_queue_length", "Items waiting.", ["queue"]);
  const c = fixed("app", [d], (ch) => ch(mustNewConstMetric(d, GaugeValue, 3, "a")));
  expect(await collectAndLint(c)).toEqual([]);
});

test("collectAndLint fails on what the registry refuses", async () => {
  const d = newDesc("app_queue_length", "Items waiting.", ["queue"]);
  const dup = fixed("dup", [d], (ch) => {
    ch(mustNewConstMetric(d, GaugeValue, 3, "a"));
    ch(mustNewConstMetric(d, GaugeValue, 4, "a"));
  });
  await expect(collectAndLint(dup)).rejects.toThrow(
    `collectAndLint: gathering metrics failed: collector dup: collected metric app_queue_length{queue="a"} was collected before with the same name and label values`,
  );
  const bad = fixed("bad", [newDesc("", "x")], () => {});
  await expect(collectAndLint(bad)).rejects.toThrow(
    `collectAndLint: registering collector failed: collector bad: descriptor`,
  );
});
