// The linter against the reference: every input of testdata/lint goes through lint()
// and through `promtool check metrics`, and the two must report the same findings (or
// the same parse error), except for the differences listed below. As node_exporter pipes
// its output through promtool, this keeps the TypeScript rules honest.
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { lintCorpus } from "./_corpus.ts";
import { run } from "../testing/process.ts";
import { lint } from "./promlint.ts";

/**
 * Where this linter and promtool 2.42 are expected to differ, by input: the findings
 * only one side reports, and why. An entry that stops being true fails its test, so
 * this table cannot go stale.
 */
const expectedDisagreements: Record<string, { onlyOurs?: string[]; onlyPromtool?: string[]; why: string }> = {
  // promlint gained "metric not unique" in client_golang 1.15; promtool 2.42 is built
  // with 1.14 and its parser accepts a series repeated. Prometheus itself would
  // reject the second sample of each scrape, so this linter reports it.
  "duplicate_series": {
    onlyOurs: ["queue_length metric not unique"],
    why: "duplicate series rule (client_golang 1.15+), absent from promtool 2.42",
  },
  // Newer promlint compares label lists in the order written, and would miss this
  // too; the labels of a series are a set, so this linter compares them as one.
  "duplicate_series_label_order": {
    onlyOurs: ["http_requests_total metric not unique"],
    why: "duplicate series rule, absent from promtool 2.42; labels compared as a set",
  },
  // The parser folds a histogram's lines into one series per label set, so no
  // promlint version sees a repeated bucket line; it is a duplicate series all the same.
  "duplicate_histogram_bucket": {
    onlyOurs: ["rpc_latency_seconds metric not unique"],
    why: "a repeated bucket line is a duplicate sample; promlint never sees it",
  },
};

/** Runs promtool on `text`: its findings as `metric text` lines, or its parse error. */
async function promtool(text: string): Promise<{ findings: string[]; error: string | undefined }> {
  const r = await run("promtool", ["check", "metrics"], text, 60_000);
  // Exit 0: clean; 3: findings, one "<metric> <text>" per line on stderr; 1: an error.
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  const prefix = "error while linting: ";
  if (r.code === 1 && lines.length === 1 && lines[0].startsWith(prefix)) {
    return { findings: [], error: lines[0].slice(prefix.length) };
  }
  if (r.code === 0 || r.code === 3) return { findings: lines, error: undefined };
  throw new Error(`promtool exited ${r.code}: ${r.stderr}`);
}

const found = spawnSync("promtool", ["--version"], { encoding: "utf8" });
const available = !found.error && found.status === 0;
const corpus = lintCorpus();

if (!available) {
  const why = "promtool not found on PATH (Debian: apt-get install prometheus; `make system-deps`)";
  console.warn(`SKIPPED: the promtool agreement tests: ${why}`);
  test.skip(`promtool agrees with lint on testdata/lint — SKIPPED: ${why}`, () => {});
} else {
  // All inputs at once: one promtool run takes ~0.1 s, mostly start-up.
  const runs = new Map(corpus.map((c) => [c.name, promtool(c.text)]));
  for (const run of runs.values()) run.catch(() => {}); // reported by the test that awaits it
  for (const c of corpus) {
    test(`promtool agrees with lint on ${c.name}.prom`, async () => {
      const theirs = await runs.get(c.name)!;
      let ours: string[] = [];
      let ourError: string | undefined;
      try {
        ours = lint(c.text).map((p) => `${p.metric} ${p.text}`);
      } catch (e) {
        ourError = (e as Error).message;
      }
      // The same parse error, at the same line, in the same words; or none on both sides.
      expect(ourError).toBe(theirs.error);
      // Each side less what only it reports must be the same list of findings.
      const d = expectedDisagreements[c.name];
      const without = (findings: string[], only: string[] = []) => {
        const rest = [...findings];
        for (const f of only) {
          const i = rest.indexOf(f);
          if (i < 0) {
            throw new Error(
              `the table says ${c.name}.prom has ${JSON.stringify(f)} on one side only; got ${
                JSON.stringify(findings)
              }`,
            );
          }
          rest.splice(i, 1);
        }
        return rest.sort();
      };
      expect(without(ours, d?.onlyOurs)).toEqual(without(theirs.findings, d?.onlyPromtool));
    });
  }

  test("every expected disagreement names an input of the corpus", () => {
    const names = new Set(corpus.map((c) => c.name));
    expect(Object.keys(expectedDisagreements).filter((n) => !names.has(n))).toEqual([]);
  });
}
