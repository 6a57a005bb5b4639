import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { ByteWriter } from "./_bytes.ts";
import type { Collector } from "./collector.ts";
import { newDesc } from "./desc.ts";
import { contentTypes, encode, encodeSliced, type Format, formatOpenMetricsFloat, formatValue } from "./expfmt.ts";
import { type MetricFamily, Registry } from "./registry.ts";
import {
  CounterValue,
  GaugeValue,
  type Metric,
  mustNewConstHistogram,
  mustNewConstHistogramWithCreatedTimestamp,
  mustNewConstMetric,
  mustNewConstMetricWithCreatedTimestamp,
  mustNewConstSummary,
  newMetricWithExemplars,
  newMetricWithTimestamp,
  UntypedValue,
} from "./value.ts";

/** Gathers what `collect` sends through a fresh registry, as a scrape would. */
async function familiesOf(collect: (ch: (m: Metric) => void) => void): Promise<MetricFamily[]> {
  const c: Collector = { name: "fixture", describe() {}, collect };
  const r = new Registry();
  r.register(c);
  const got = await r.gather();
  expect(got.errors.map((e) => e.message)).toEqual([]);
  return got.families;
}

// Everything the encoders must get right, in one exposition. Each family is there
// for one reason, given in its HELP where the HELP is not itself the test.
const hostileHelp = newDesc(
  "hostile_help",
  'A backslash \\, a "quote", a newline\nthen a tab\tand a CR\r, C:\\new, é, 日本, 🎉.',
);
const hostileLabels = newDesc("hostile_labels", "Label values that must be escaped, and some that must not.", ["v"]);
const hostileValues = [
  "back\\slash",
  '"quoted"',
  "line\nbreak",
  "tab\there",
  "cr\rhere",
  "C:\\new",
  "a=b,c}",
  "naïve 日本語",
  "emoji 🎉",
  "",
];
const special = newDesc("special_values", "Floats that are easy to get wrong.", ["case"]);
const specialValues: [string, number][] = [
  ["nan", NaN],
  ["pos_inf", Infinity],
  ["neg_inf", -Infinity],
  ["neg_zero", -0],
  ["e21", 1e21],
  ["e_minus_7", 1e-7],
  ["max_safe_integer", Number.MAX_SAFE_INTEGER],
  ["large_integer", 123456789012345680000],
  ["point_one_plus_point_two", 0.1 + 0.2],
  ["min_value", Number.MIN_VALUE],
  ["max_value", Number.MAX_VALUE],
];
const fooMetric = newDesc("foo_metric", "A counter whose name does not end in _total.");
const fooTotal = newDesc("foo_total", "A counter whose name ends in _total.", ["code"]);
const untyped = newDesc("legacy_untyped", "Untyped: unknown in OpenMetrics.");
const latency = newDesc("latency_seconds", "A histogram, one series without a +Inf bucket.", ["path"], {
  service: "api",
});
const rpc = newDesc("rpc_duration_seconds", "A summary.");
const info = newDesc("app_info", "Const labels sorted in among variable ones.", ["app", "zone"], {
  version: "1.2.3",
  env: "prod",
});

function collectAll(ch: (m: Metric) => void): void {
  ch(mustNewConstMetric(hostileHelp, GaugeValue, 1));
  for (const v of hostileValues) ch(mustNewConstMetric(hostileLabels, GaugeValue, 1, v));
  for (const [name, v] of specialValues) ch(mustNewConstMetric(special, GaugeValue, v, name));
  ch(mustNewConstMetric(fooMetric, CounterValue, 1));
  ch(mustNewConstMetric(fooTotal, CounterValue, 2, "200"));
  ch(mustNewConstMetric(untyped, UntypedValue, 7));
  ch(mustNewConstHistogram(latency, 4, 12.5, { 0.1: 1, 1: 2, 10: 3 }, "/a"));
  ch(mustNewConstHistogram(latency, 2, 1.5, { 0.25: 0, 1: 1, "+Inf": 2 }, "/b"));
  ch(mustNewConstSummary(rpc, 100, 7.5, { 0: 0.001, 0.5: 0.05, 0.99: 0.2, 1: 0.5 }));
  ch(mustNewConstMetric(info, GaugeValue, 1, "kit", "eu-1"));
}

const update = process.env.UPDATE_GOLDEN === "1";

/** Compares `got` with a golden file byte for byte; UPDATE_GOLDEN=1 rewrites it. */
function expectGolden(got: string, file: string): void {
  const url = new URL(`./testdata/${file}`, import.meta.url);
  if (update) writeFileSync(url, got);
  const want = readFileSync(url, "utf8");
  if (got !== want) {
    throw new Error(
      `encoded output differs from testdata/${file}:\ngot:\n${got}\nwant:\n${want}\n(rerun with UPDATE_GOLDEN=1 to rewrite, then review the diff)`,
    );
  }
}

const goldens: { format: Format; file: string }[] = [
  { format: "text", file: "exposition.text.txt" },
  { format: "openmetrics-1.0.0", file: "exposition.openmetrics.txt" },
];

describe("encode against golden files", () => {
  for (const g of goldens) {
    test(`${g.format} matches testdata/${g.file}`, async () => {
      expectGolden(encode(await familiesOf(collectAll), g.format), g.file);
    });

    test(`${g.format}: encodeSliced into a buffer too small, or large enough, gives encode()'s bytes`, async () => {
      const families = await familiesOf(collectAll);
      const whole = encode(families, g.format);
      for (const size of [1, 100, 1 << 20]) {
        const got = new TextDecoder().decode(await encodeSliced(families, g.format, new Uint8Array(size)));
        if (got !== whole) {
          throw new Error(`buffer of ${size} bytes: got ${got.length} bytes unlike encode()'s ${whole.length}`);
        }
      }
    });
  }
});

describe("buffer growth", () => {
  // Lines of ~330 bytes, almost all of them the template (a long constant label): the
  // buffer, 8 KiB or 1 byte at first, runs out in the middle of templates many times.
  test("a column of long lines is written whole however small the buffer starts", async () => {
    const wide = newDesc("wide", "Wide.", ["v"], { c: "x".repeat(300) });
    const values = Array.from({ length: 300 }, (_, i) => `s${i}`);
    const families = await familiesOf((ch) => values.forEach((v, i) => ch(mustNewConstMetric(wide, GaugeValue, i, v))));
    const lines = values.map((v, i) => [v, `wide{c="${"x".repeat(300)}",v="${v}"} ${i}\n`] as const)
      .sort(([a], [b]) => (a < b ? -1 : 1)).map(([, l]) => l);
    const want = `# HELP wide Wide.\n# TYPE wide gauge\n${lines.join("")}`;
    expect(encode(families, "text")).toBe(want);
    expect(new TextDecoder().decode(await encodeSliced(families, "text", new Uint8Array(1)))).toBe(want);
  });
});

const promtool = spawnSync("promtool", ["--version"]).error === undefined;

describe("promtool", () => {
  // node_exporter pipes its output through the real parser; so do we. Lint
  // warnings (say, a counter without _total) are fine, parse errors are not.
  const name = "the text exposition parses with promtool check metrics";
  if (!promtool) {
    console.warn(`skipping "${name}": promtool is not installed (apt-get install prometheus)`);
    test.skip(name, () => {});
    return;
  }
  test(name, async () => {
    const text = encode(await familiesOf(collectAll), "text");
    const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    const output = `${r.stdout}${r.stderr}`;
    // promtool exits 1 on a parse error, 3 on lint problems only.
    if ((r.status !== 0 && r.status !== 3) || output.includes("error while linting")) {
      throw new Error(
        `promtool check metrics: got status ${r.status} and ${JSON.stringify(output)}, want no parse error`,
      );
    }
  });

  test("promtool does reject a malformed exposition (the check can fail)", () => {
    const r = spawnSync("promtool", ["check", "metrics"], { input: 'x{a="unterminated} 1\n', encoding: "utf8" });
    expect(r.status).toBe(1);
  });
});

describe("text format 0.0.4", () => {
  test("HELP escapes only backslash and newline; label values also the double quote", async () => {
    const d = newDesc("esc", 'a\\b"c\nd', ["v"]);
    const got = encode(await familiesOf((ch) => ch(mustNewConstMetric(d, GaugeValue, 1, 'a\\b"c\nd'))));
    expect(got).toBe(`# HELP esc a\\\\b"c\\nd\n# TYPE esc gauge\nesc{v="a\\\\b\\"c\\nd"} 1\n`);
  });

  test("a HELP text or label value that starts with U+FEFF and needs escaping keeps the U+FEFF", async () => {
    const d = newDesc("bom", "\uFEFFa\\b", ["v"]);
    const fams = await familiesOf((ch) => ch(mustNewConstMetric(d, GaugeValue, 1, '\uFEFF"')));
    expect(encode(fams)).toBe(`# HELP bom \uFEFFa\\\\b\n# TYPE bom gauge\nbom{v="\uFEFF\\""} 1\n`);
    expect(encode(fams, "openmetrics-1.0.0")).toContain(`# HELP bom \uFEFFa\\\\b\n`);
  });

  test("a counter keeps the name it was given, _total or not", async () => {
    const got = encode(
      await familiesOf((ch) => {
        ch(mustNewConstMetric(fooMetric, CounterValue, 1));
        ch(mustNewConstMetric(fooTotal, CounterValue, 2, "200"));
      }),
    );
    expect(got).toContain("# TYPE foo_metric counter\nfoo_metric 1\n");
    expect(got).toContain('# TYPE foo_total counter\nfoo_total{code="200"} 2\n');
  });

  test("no families give an empty body, with no # EOF", () => {
    expect(encode([], "text")).toBe("");
  });
});

describe("OpenMetrics 1.0.0", () => {
  // prometheus/common's openmetrics_create.go: "A counter with a missing `_total`
  // suffix is not an error. However, its type will be set to `unknown`".
  test("a counter not ending in _total is typed unknown and keeps its name, as prometheus/common", async () => {
    const got = encode(
      await familiesOf((ch) => ch(mustNewConstMetric(fooMetric, CounterValue, 1))),
      "openmetrics-1.0.0",
    );
    expect(got).toBe(
      "# HELP foo_metric A counter whose name does not end in _total.\n# TYPE foo_metric unknown\nfoo_metric 1.0\n# EOF\n",
    );
  });

  test("a counter ending in _total: the family is named without it, once", async () => {
    const got = encode(
      await familiesOf((ch) => ch(mustNewConstMetric(fooTotal, CounterValue, 2, "200"))),
      "openmetrics-1.0.0",
    );
    expect(got).toBe(
      '# HELP foo A counter whose name ends in _total.\n# TYPE foo counter\nfoo_total{code="200"} 2.0\n# EOF\n',
    );
  });

  test("HELP escapes the double quote too", async () => {
    const d = newDesc("esc", 'say "hi"\\\n');
    const got = encode(await familiesOf((ch) => ch(mustNewConstMetric(d, GaugeValue, 1))), "openmetrics-1.0.0");
    expect(got).toBe(`# HELP esc say \\"hi\\"\\\\\\n\n# TYPE esc gauge\nesc 1.0\n# EOF\n`);
  });

  test("untyped is exposed as unknown", async () => {
    const got = encode(await familiesOf((ch) => ch(mustNewConstMetric(untyped, UntypedValue, 7))), "openmetrics-1.0.0");
    expect(got).toContain("# TYPE legacy_untyped unknown\nlegacy_untyped 7.0\n");
  });

  test("no families give just # EOF", () => {
    expect(encode([], "openmetrics-1.0.0")).toBe("# EOF\n");
  });

  test("# EOF ends the body exactly once", async () => {
    const got = encode(await familiesOf(collectAll), "openmetrics-1.0.0");
    expect(got.endsWith("\n# EOF\n")).toBe(true);
    expect(got.split("# EOF").length - 1).toBe(1);
  });
});

describe("contentTypes", () => {
  test("name the version and charset of each format", () => {
    expect(contentTypes["text"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(contentTypes["openmetrics-1.0.0"]).toBe("application/openmetrics-text; version=1.0.0; charset=utf-8");
  });
});

describe("a column's lines (templates copied four bytes at a time, labels escaped in place)", () => {
  // Templates of every length modulo 4 (names of 1 to 4 letters, with and without a
  // constant label), label values that need escaping or are not ASCII part way, and
  // enough series that the buffer grows (from 8 KiB) while lines are written: the
  // lines must be those built here from strings.
  const values = ["", "a", "ab", 'q"uote', "back\\slash", "new\nline", "é", "xé", "日本", "😀", 'mixed é"\n'];
  for (const names of [["a"], ["ab", "c"], ["abc", "de", "f"], ["abcd"]]) {
    for (const constLabels of [undefined, { k: "v" }]) {
      test(`labels ${names.join(",")}${constLabels ? " and a constant one" : ""}`, async () => {
        const d = newDesc("m" + names.join(""), "Help.", names, constLabels);
        const series = Array.from({ length: 1500 }, (_, i) => names.map((_, j) => values[(i + j) % values.length] + i));
        const got = encode(
          await familiesOf((ch) => series.forEach((lv, i) => ch(mustNewConstMetric(d, GaugeValue, i / 2, ...lv)))),
          "text",
        );
        const quoted = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
        const want = series.map((lv, i) => {
          const pairs = names.map((n, j) => [n, lv[j]]);
          if (constLabels) pairs.push(["k", "v"]);
          pairs.sort(([x], [y]) => (x < y ? -1 : 1));
          return `${d.fqName}{${pairs.map(([n, v]) => `${n}="${quoted(v)}"`).join(",")}} ${i / 2}`;
        });
        expect(got.split("\n").filter((l) => l !== "" && !l.startsWith("#")).sort()).toEqual(want.sort());
      });
    }
  }
});

describe("sample values", () => {
  const written = (v: number, om = false) => {
    const w = new ByteWriter();
    if (om) w.numberOM(v);
    else w.number(v);
    return new TextDecoder().decode(w.written());
  };

  // Go's own output for these is in the corpus test (go_corpus_test.ts); these are
  // the documented examples of strconv.FormatFloat(v, 'g', -1, 64) and of
  // prometheus/common's writeOpenMetricsFloat.
  test("follow Go's 'g' layout: exponent below 1e-4 and from 1e6, two exponent digits", () => {
    const cases: [number, string, string][] = [
      [0, "0", "0.0"],
      [-0, "0", "0.0"],
      [1, "1", "1.0"],
      [-1, "-1", "-1.0"],
      [42, "42", "42.0"],
      [0.0001, "0.0001", "0.0001"],
      [0.00001, "1e-05", "1e-05"],
      [999999, "999999", "999999.0"],
      [999999.5, "999999.5", "999999.5"],
      [1e6, "1e+06", "1e+06"],
      [1756047.3, "1.7560473e+06", "1.7560473e+06"],
      [2 ** 53, "9.007199254740992e+15", "9.007199254740992e+15"],
      [1e21, "1e+21", "1e+21"],
      [1e100, "1e+100", "1e+100"],
      [5e-324, "5e-324", "5e-324"],
      [NaN, "NaN", "NaN"],
      [Infinity, "+Inf", "+Inf"],
      [-Infinity, "-Inf", "-Inf"],
      [-1234567, "-1.234567e+06", "-1.234567e+06"],
      [0.1 + 0.2, "0.30000000000000004", "0.30000000000000004"],
    ];
    for (const [v, text, om] of cases) {
      expect([v, written(v), formatValue(v)]).toEqual([v, text, text]);
      expect([v, written(v, true), formatOpenMetricsFloat(v)]).toEqual([v, om, om]);
    }
  });

  test("the digit-by-digit fast paths write what formatValue writes", () => {
    const edges = [
      0,
      -0,
      1,
      -1,
      0.5,
      61.5,
      0.1,
      0.3,
      0.1 + 0.2,
      1 / 3,
      0.05,
      1e-6,
      1.5e-6,
      9.99e-7,
      1e-7,
      93.2412,
      123456.789,
      1e15 - 0.5,
      1e15,
      2 ** 50 + 0.5,
      2 ** 53,
      2 ** 53 + 2,
      1e21,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      -0.001,
      NaN,
      Infinity,
      -Infinity,
      12345678901.123456,
      1e-4,
      9.9999e-5,
      999999.999999,
      1e6,
      // The integer and one-decimal paths (below 1e6, as int32 digits two at a time):
      // each width, both sides of 1e6, -0 and negative halves.
      ...[9, 10, 99, 100, 999, 1000, 9999, 10000, 99999, 100000, 999999].flatMap((k) => [k, -k, k + 0.5, -k - 0.1]),
      999999.9,
      -999999.9,
      1e6 - 0.5,
      1e6 + 0.5,
      -0.5,
      0.9,
      2 ** 31 - 1,
      2 ** 31,
      -(2 ** 31),
      (2 ** 31 - 1) / 10,
      2 ** 53 - 1,
      -(2 ** 53),
      // The exponent form from decimals, from 1e6 while m = v × 10^d stays below 2^50.
      1796313667.33,
      -1796313667.33,
      1e6 + 0.25,
      123456789.123456,
      2 ** 49 - 0.5,
      2 ** 49 + 0.5,
      2 ** 50 / 10 - 0.1,
      1e14 + 0.5,
      1e15 + 0.5,
      1.7e9 + 1 / 3,
    ];
    // A fixed-seed generator, so a failure can be replayed.
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const values = [...edges];
    for (let i = 0; i < 200_000; i++) {
      const scale = 10 ** Math.floor(rnd() * 8);
      switch (i % 5) {
        case 0:
          values.push(rnd() * 10 ** (Math.floor(rnd() * 30) - 10));
          break;
        case 1:
          values.push(Math.round(rnd() * 1e6) / scale);
          break;
        case 2:
          values.push(-Math.round(rnd() * 1e12) / scale);
          break;
        case 3:
          values.push(i * 0.5, i * 0.1, -i / 10);
          break;
        default:
          values.push(Math.round(rnd() * 1e15) / 1000);
      }
    }
    const wrong = values.filter((v) => written(v) !== formatValue(v)).map((v) => `${v}: ${written(v)}`);
    expect(wrong.slice(0, 5)).toEqual([]);
    const wrongOM = values.filter((v) => written(v, true) !== formatOpenMetricsFloat(v)).map((v) =>
      `${v}: ${written(v, true)}`
    );
    expect(wrongOM.slice(0, 5)).toEqual([]);
  });
});

describe("python3-prometheus-client's OpenMetrics parser (an independent reader)", () => {
  const python = "/usr/bin/python3";
  const available = spawnSync(python, ["-c", "import prometheus_client.openmetrics.parser"]).status === 0;
  const name = "reads exemplars, _created lines, units, timestamps and escaped UTF-8 names as written";
  if (!available) {
    console.warn(`skipping "${name}": ${python} lacks prometheus_client (apt-get install python3-prometheus-client)`);
    test.skip(name, () => {});
    return;
  }
  // Debian's 0.16 predates quoted UTF-8 names, so the names go in escaped (the default).
  // It also misreads timestamps in exponent form (1.700000003e+09 as 1.700000003),
  // which prometheus/common writes for any timestamp from 1e6 s on (its own test case
  // expects `0.23 1.23456789e+06`) and the OpenMetrics grammar allows: timestamps are
  // checked in the text, the rest through the parser.
  test(name, async () => {
    const c = newDesc("http.requests_total", "Requests.", ["service.name"], null, { unit: "" });
    const h = newDesc("rpc_latency_seconds", "Latency.", null, null, { unit: "seconds" });
    const g = newDesc("queue_length", "Queue.");
    const families = await familiesOf((ch) => {
      ch(newMetricWithExemplars(mustNewConstMetricWithCreatedTimestamp(c, CounterValue, 42, 1700000000500, "api"), {
        value: 1,
        labels: { trace_id: "abc" },
        timestamp: 1700000001250,
      }));
      ch(newMetricWithExemplars(mustNewConstHistogramWithCreatedTimestamp(h, 3, 1.5, { 0.5: 1, 1: 2 }, 1700000000000), {
        value: 0.7,
        labels: { trace_id: "def" },
        timestamp: 1700000002000,
      }));
      ch(newMetricWithTimestamp(1700000003000, mustNewConstMetric(g, GaugeValue, 5)));
    });
    const body = encode(families, "openmetrics-1.0.0", { createdLines: true });
    const script = "import sys, json\n" +
      "from prometheus_client.openmetrics.parser import text_string_to_metric_families as p\n" +
      "out = []\n" +
      "for f in p(sys.stdin.read()):\n" +
      "  out.append([f.name, f.type, f.unit, [[s.name, s.labels, s.value, s.timestamp is not None, s.exemplar and [s.exemplar.labels, s.exemplar.value]] for s in f.samples]])\n" +
      "print(json.dumps(out))";
    const r = spawnSync(python, ["-c", script], { input: body, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`python parser refused:\n${body}\n${r.stderr}`);
    expect(JSON.parse(r.stdout)).toEqual([
      ["http_requests", "counter", "", [
        ["http_requests_total", { service_name: "api" }, 42, false, [{ trace_id: "abc" }, 1]],
        ["http_requests_created", { service_name: "api" }, 1700000000.5, false, null],
      ]],
      ["queue_length", "gauge", "", [["queue_length", {}, 5, true, null]]],
      ["rpc_latency_seconds", "histogram", "seconds", [
        ["rpc_latency_seconds_bucket", { le: "0.5" }, 1, false, null],
        ["rpc_latency_seconds_bucket", { le: "1.0" }, 2, false, [{ trace_id: "def" }, 0.7]],
        ["rpc_latency_seconds_bucket", { le: "+Inf" }, 3, false, null],
        ["rpc_latency_seconds_sum", {}, 1.5, false, null],
        ["rpc_latency_seconds_count", {}, 3, false, null],
        ["rpc_latency_seconds_created", {}, 1700000000, false, null],
      ]],
    ]);
    // float64(UnixNano)/1e9, as Go computes it: 1.25 s past ends in ...2499998 (checked with go run).
    expect(body).toContain(
      'http_requests_total{service_name="api"} 42.0 # {trace_id="abc"} 1.0 1.7000000012499998e+09\n',
    );
    expect(body).toContain("queue_length 5.0 1.700000003e+09\n");
    expect(body).toContain('rpc_latency_seconds_bucket{le="1.0"} 2 # {trace_id="def"} 0.7 1.700000002e+09\n');
  });
});
