// Hostile input through the collector API and both encoders: 1,200 generated HELP
// texts and label values (see _corpus.ts) go in through newDesc/mustNewConstMetric and
// a Registry, come out of encode(…, "text") and encode(…, "openmetrics-1.0.0"), and
// must (1) parse with promtool, our strict reader and prometheus_client's two parsers,
// and (2) read back exactly as put in. Lone surrogates must be refused up front. Then
// the same corpus served by the fixture on Bun and Deno, and a sample scraped by a real
// Prometheus and read back through its HTTP API.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newDesc } from "../prometheus/desc.ts";
import { encode, encodeBytes, type Format } from "../prometheus/expfmt.ts";
import { Registry } from "../prometheus/registry.ts";
import { GaugeValue, mustNewConstMetric } from "../prometheus/value.ts";
import { PROMETHEUS_ACCEPT } from "../testing/http.ts";
import { DEBIAN_PYTHON, type Proc, Proc as ProcClass, run } from "../testing/process.ts";
import { parseExposition } from "../testutil/strict_parser.ts";
import { hostileCollector, hostileNumbers, hostileStrings, LONE_SURROGATES, sampleStrings, SEED } from "./_corpus.ts";
import { command, freePort, get, LONG, record, RUNTIMES, type Server, startFixture, waitFor } from "./_harness.ts";
import { fromPython, fromStrict, mismatches, pyStripHelp } from "./_readback.ts";

const AREA = "hostile input";
const CMD = command("encoders_suite.ts");
const N = 1200;
const strings = hostileStrings(N);
const numbers = hostileNumbers(N);

/** Runs promtool check metrics; returns its parse error, or undefined when it parsed. */
async function promtoolParseError(text: Uint8Array): Promise<string | undefined> {
  const r = await run("promtool", ["check", "metrics"], new TextDecoder().decode(text), 60_000);
  if (r.code === 0 || r.code === 3) return undefined; // 3: lint findings only
  return `promtool exited ${r.code}: ${(r.stdout + r.stderr).slice(0, 500)}`;
}

async function pythonRead(body: Uint8Array, om: boolean): Promise<string> {
  const r = await run(
    DEBIAN_PYTHON,
    ["reliability/testdata/readback.py", om ? "openmetrics" : "text"],
    new TextDecoder().decode(body),
    60_000,
  );
  if (r.code !== 0) {
    throw new Error(`prometheus_client's ${om ? "openmetrics" : "text"} parser failed: ${r.stderr.slice(-800)}`);
  }
  return r.stdout;
}

/** Reads `body` with every parser and returns the mismatches of each, by parser. */
async function readBackAll(
  body: Uint8Array,
  om: boolean,
  prefix: string,
  strs: readonly string[],
  nums: readonly number[],
  python = true,
) {
  const out: Record<string, string[]> = {};
  try {
    out.strict = mismatches(fromStrict(parseExposition(body, om)), prefix, strs, nums);
  } catch (e) {
    out.strict = [`parse error: ${(e as Error).message}`];
  }
  if (python) {
    try {
      // prometheus_client's text parser strips whitespace around HELP (Python's
      // str.strip); the text format has no escape for a leading blank either, and Go's
      // parser strips them too. Its HELP is compared with that stripping applied.
      const fams = fromPython(await pythonRead(body, om));
      out.prometheus_client = om
        ? mismatches(fams, prefix, strs, nums)
        : mismatches(fams, prefix, strs, nums, pyStripHelp);
    } catch (e) {
      out.prometheus_client = [`parse error: ${(e as Error).message}`];
    }
  }
  if (!om) {
    const err = await promtoolParseError(body);
    out.promtool = err ? [err] : [];
  }
  return out;
}

const summarize = (r: Record<string, string[]>) =>
  Object.entries(r).map(([p, m]) =>
    `${p}: ${m.length === 0 ? (p === "promtool" ? "parsed" : "exact") : `${m.length} mismatches, first: ${m[0]}`}`
  ).join("; ");

describe("hostile input through the collector API and both encoders", () => {
  const registry = new Registry();
  registry.mustRegister(hostileCollector("hostile", strings, numbers));

  for (const format of ["text", "openmetrics-1.0.0"] as const satisfies readonly Format[]) {
    test(
      `${N} HELP texts and label values, encode(…, "${format}"): every parser reads back exactly what went in`,
      async () => {
        const { families, errors } = await registry.gather();
        expect(errors.map((e) => e.message)).toEqual([]);
        const t0 = performance.now();
        const body = encodeBytes(families, format);
        const encodeMs = performance.now() - t0;
        // encode() is the string form of the same bytes.
        expect(encode(families, format)).toBe(new TextDecoder().decode(body));
        const results = await readBackAll(body, format !== "text", "hostile", strings, numbers);
        const held = Object.values(results).every((m) => m.length === 0);
        const big = strings.filter((s) => s.length >= 64 * 1024).length;
        record({
          area: AREA,
          test: `encode "${format}": ${N} HELP + ${N} label values (seed ${SEED}, ${big} of 64 KiB) read back`,
          runtime: "bun test",
          figure: `${(body.length / 1e6).toFixed(1)} MB in ${encodeMs.toFixed(0)} ms; ${summarize(results)}`,
          held,
          command: CMD,
        });
        expect(results).toEqual(Object.fromEntries(Object.keys(results).map((k) => [k, []])));
      },
      60_000,
    );
  }

  test("lone surrogates are refused up front, naming the metric and the label", () => {
    const refused: string[] = [];
    for (const s of LONE_SURROGATES) {
      const help = newDesc("lone_help", s);
      expect(help.err?.message).toBe(`metric "lone_help": help text is not valid UTF-8`);
      expect(() => new Registry().register({ describe: (ch) => ch(help), collect: () => {} })).toThrow(
        /collector collector: descriptor Desc\{fqName: "lone_help".*help text is not valid UTF-8/,
      );
      const cl = newDesc("lone_const", "h", [], { c: s });
      expect(cl.err?.message).toBe(
        `metric "lone_const": constant label c has a value that is not a valid UTF-8 string`,
      );
      const d = newDesc("lone_label", "h", ["v"]);
      let msg = "";
      try {
        mustNewConstMetric(d, GaugeValue, 1, s);
      } catch (e) {
        msg = (e as Error).message;
      }
      expect(msg).toStartWith(`metric "lone_label": label v has a value that is not a valid UTF-8 string: `);
      refused.push(msg);
    }
    record({
      area: AREA,
      test: `${LONE_SURROGATES.length} lone surrogates as HELP, constant and variable label values`,
      runtime: "bun test",
      figure: `all refused up front: newDesc carries the error (register throws), mustNewConstMetric throws, e.g. ${
        refused[0]
      }`,
      held: true,
      command: CMD,
    });
  });

  // client_golang writes -0 as "0" (prometheus/common's writeFloat takes f == 0 first,
  // which -0 is; checked with client_golang 1.14 and MetricFamilyToText), and so does
  // this kit, so that the two expose the same bytes.
  test("-0 is written as 0, as client_golang writes it, in both formats", () => {
    const d = newDesc("negative_zero", "h");
    const r = [mustNewConstMetric(d, GaugeValue, -0)];
    const fam = { name: "negative_zero", help: "h", type: "gauge" as const, desc: d, metrics: r };
    const got = (["text", "openmetrics-1.0.0"] as const).map((f) =>
      parseExposition(encodeBytes([fam], f), f !== "text")[0].samples[0].value
    );
    record({
      area: AREA,
      test: "the sample value -0 is written as 0, as client_golang writes it",
      runtime: "bun test",
      figure: `written as ${JSON.stringify(encode([fam], "text").split("\n")[2])}: read back as ${
        got.map((v) => (Object.is(v, -0) ? "-0" : String(v))).join(", ")
      }`,
      held: got.every((v) => Object.is(v, 0)),
      command: CMD,
    });
    expect(got.map((v) => Object.is(v, 0))).toEqual([true, true]);
  });

  test("a collector sending a lone surrogate fails alone, named, at gather", async () => {
    const d = newDesc("lone_label", "h", ["v"]), ok = newDesc("ok_value", "h");
    const r = new Registry();
    r.mustRegister(
      { name: "lone", describe: (ch) => ch(d), collect: (ch) => ch(mustNewConstMetric(d, GaugeValue, 1, "\ud800")) },
      { name: "ok", describe: (ch) => ch(ok), collect: (ch) => ch(mustNewConstMetric(ok, GaugeValue, 1)) },
    );
    const g = await r.gather();
    expect(g.families.map((f) => f.name)).toEqual(["ok_value"]);
    expect(g.errors.map((e) => e.collector)).toEqual(["lone"]);
    expect(g.collectors.find((c) => c.name === "lone")?.success).toBe(false);
  });
});

for (const rt of RUNTIMES) {
  describe(`hostile corpus served on ${rt.name} (${rt.how})`, () => {
    let s: Server;
    afterAll(async () => await s?.stop());
    for (const om of [false, true]) {
      test(`${om ? "OpenMetrics" : "text"} over HTTP reads back exactly`, async () => {
        s ??= await startFixture(rt, "corpus", ["--web.enable-openmetrics"]);
        const res = await get(`${s.url}/metrics`, { headers: { Accept: om ? PROMETHEUS_ACCEPT : "text/plain" } });
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toStartWith(
          om ? "application/openmetrics-text; version=1.0.0" : "text/plain; version=0.0.4",
        );
        const body = new Uint8Array(await res.arrayBuffer());
        // prometheus_client's parsers take seconds for 8.5 MB: in the fast mode they
        // read the in-process encoding only, and the served one in the long mode.
        const results = await readBackAll(body, om, "hostile", strings, numbers, LONG);
        const held = Object.values(results).every((m) => m.length === 0);
        record({
          area: AREA,
          test: `corpus served as ${om ? "OpenMetrics 1.0.0" : "text 0.0.4"} read back`,
          runtime: rt.name,
          figure: `${(body.length / 1e6).toFixed(1)} MB; ${summarize(results)}`,
          held,
          command: CMD,
        });
        expect(results).toEqual(Object.fromEntries(Object.keys(results).map((k) => [k, []])));
      }, 60_000);
    }
  });
}

/**
 * HELP texts that Prometheus 2.42's text-format parser reads as "" although the
 * encoder wrote them as the format says (`# HELP name \t`, `# HELP name \0`): its lexer
 * takes a lone tab or NUL after the name for the end of the line. "\u0000 after NUL",
 * " leading blank" and OpenMetrics come back exact, so this is the parser's, not ours.
 */
const PROMETHEUS_TEXT_HELP_QUIRKS = new Set(["\t", "\u0000"]);

describe("a real Prometheus scrapes a hostile sample", () => {
  const servers: Server[] = [];
  let prom: Proc | undefined;
  let dir: string | undefined;
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await prom?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test(
    "label values and HELP texts come back exactly through its HTTP API, text and OpenMetrics, Bun and Deno",
    async () => {
      const sample = sampleStrings();
      const jobs: { job: string; runtime: string; om: boolean; server: Server }[] = [];
      for (const rt of RUNTIMES) {
        for (const om of [false, true]) {
          const server = await startFixture(rt, "sample", om ? ["--web.enable-openmetrics"] : []);
          servers.push(server);
          jobs.push({ job: `${rt.name}_${om ? "openmetrics" : "text"}`, runtime: rt.name, om, server });
        }
      }
      dir = await mkdtemp(join(tmpdir(), "reliability-prometheus-"));
      const config = join(dir, "prometheus.yml");
      await writeFile(
        config,
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n" +
          jobs.map((j) =>
            `  - job_name: ${j.job}\n    static_configs:\n      - targets: ["127.0.0.1:${j.server.port}"]\n`
          ).join(""),
      );
      const url = `http://127.0.0.1:${await freePort()}`;
      prom = new ProcClass("prometheus", "prometheus", [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=${url.slice(7)}`,
        "--log.level=warn",
      ]);
      const query = async (q: string) => {
        const res = await get(`${url}/api/v1/query?${new URLSearchParams({ query: q })}`);
        const b = await res.json() as { status: string; data: { result: { metric: Record<string, string> }[] } };
        if (b.status !== "success") throw new Error(JSON.stringify(b));
        return b.data.result;
      };
      await waitFor("Prometheus to have scraped every sample target", async () => {
        const up = await query("up == 1");
        return up.length === jobs.length && (await query("count by (job) (hostile_label)")).length === jobs.length;
      }, { timeoutMs: 30_000, proc: prom });
      const results: { job: string; bad: string[] }[] = [];
      for (const j of jobs) {
        const series = await query(`hostile_label{job="${j.job}"}`);
        const bad: string[] = [];
        if (series.length !== sample.length) bad.push(`got ${series.length} series, want ${sample.length}`);
        for (const s of series) {
          // Prometheus drops a label whose value is empty: v="" reads back as no v.
          const want = sample[Number(s.metric.i)] || undefined;
          if (s.metric.v !== want) {
            bad.push(
              `v of i=${s.metric.i}: got ${String(JSON.stringify(s.metric.v)).slice(0, 80)}, want ${
                JSON.stringify(want).slice(0, 80)
              }`,
            );
          }
        }
        const consts = await query(`hostile_const{job="${j.job}"}`);
        for (const s of consts) {
          const want = sample[Number(s.metric.i)] || undefined;
          if (s.metric.c !== want) {
            bad.push(
              `const c of i=${s.metric.i}: got ${String(JSON.stringify(s.metric.c)).slice(0, 80)}, want ${
                String(JSON.stringify(want)).slice(0, 80)
              }`,
            );
          }
        }
        const meta = await (await get(
          `${url}/api/v1/targets/metadata?${new URLSearchParams({ match_target: `{job="${j.job}"}` })}`,
        )).json() as {
          data: { metric: string; help: string }[];
        };
        const helps = new Map(meta.data.map((m) => [m.metric, m.help]));
        let helpsChecked = 0;
        const quirks: string[] = [];
        sample.forEach((h, i) => {
          const name = `hostile_help_${String(i).padStart(4, "0")}`;
          helpsChecked++;
          if (!j.om && PROMETHEUS_TEXT_HELP_QUIRKS.has(h) && helps.get(name) === "") {
            return void quirks.push(JSON.stringify(h));
          }
          if (helps.get(name) !== h) {
            bad.push(
              `HELP of ${name}: got ${JSON.stringify(helps.get(name))?.slice(0, 80)}, want ${
                JSON.stringify(h).slice(0, 80)
              }`,
            );
          }
        });
        record({
          area: AREA,
          test: `Prometheus 2.42 scrapes the hostile sample (${
            j.om ? "OpenMetrics" : "text"
          }), /api/v1/query and /targets/metadata`,
          runtime: j.runtime,
          figure: bad.length === 0
            ? `${series.length} label values (one of 64 KiB, NUL, CR, U+2028, emoji), ${consts.length} constant ones and ${helpsChecked} HELP texts exact` +
              (quirks.length
                ? ` (but HELP ${quirks.join(" and ")} read as "" by Prometheus' text parser, a quirk of its lexer)`
                : "")
            : `${bad.length} mismatches, first: ${bad[0]}`,
          held: bad.length === 0,
          command: CMD,
        });
        if (bad.length) console.log(`${j.job}:\n  ${bad.join("\n  ")}`);
        results.push({ job: j.job, bad });
      }
      expect(results).toEqual(jobs.map((j) => ({ job: j.job, bad: [] })));
    },
    90_000,
  );
});
