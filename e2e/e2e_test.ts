// End-to-end: the exporter as users run it (the compiled binary and `deno run`),
// checked over HTTP, by promtool, by a real Prometheus server and, for OpenMetrics, by
// the Python client's independent parser. One test body, parameterised by runtime.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  builtExporter,
  DEBIAN_PYTHON,
  DENO,
  denoPerms,
  type Exporter,
  get,
  type Prometheus,
  PROMETHEUS_ACCEPT,
  run,
  startExporter,
  startPrometheus,
  stopAll,
  waitFor,
} from "./_harness.ts";

/**
 * The Go tutorial's output for fooCollector: six consecutive lines, byte for byte, as
 * DEVELOPERS.md shows them. No other family sorts between the two (the exporter's own
 * are ts_exporter_*), so the body must contain them as one block.
 */
const TUTORIAL_LINES = [
  "# HELP bar_metric Shows whether a bar has occurred in our cluster",
  "# TYPE bar_metric counter",
  "bar_metric 1",
  "# HELP foo_metric Shows whether a foo has occurred in our cluster",
  "# TYPE foo_metric counter",
  "foo_metric 1",
].join("\n") + "\n";

/** The families of client_golang's process collector. */
const PROCESS_FAMILIES = [
  "process_cpu_seconds_total",
  "process_resident_memory_bytes",
  "process_open_fds",
  "process_max_fds",
  "process_start_time_seconds",
  "process_virtual_memory_bytes",
];

/** Families every runtime must export besides the process ones. */
const OTHER_FAMILIES = [
  "js_runtime_info",
  "promhttp_metric_handler_requests_total",
];

/**
 * The only lines `promtool check metrics` may print. The tutorial's counters keep the
 * Go tutorial's names, which lack the _total suffix on purpose.
 *
 * nodejs_* families (prom-client's runtime metrics: nodejs_eventloop_lag_*_seconds,
 * nodejs_heap_size_*_bytes, nodejs_external_memory_bytes) are exported, but promtool
 * 2.42 finds nothing wrong with them, so none is allowed here; should a legacy
 * nodejs_* name ever draw a finding, list that exact line here.
 */
const ALLOWED_PROMTOOL_FINDINGS = [
  'bar_metric counter metrics should have "_total" suffix',
  'foo_metric counter metrics should have "_total" suffix',
];

const TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8; escaping=underscores";
const OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores";
/** The scrape job's name in every Prometheus config the suite writes. */
const JOB = "e2e";

/** One way of starting the exporter; every test below runs once per entry. */
interface Runtime {
  readonly name: string;
  /** The value js_runtime_info's `runtime` label must have. */
  readonly runtime: "bun" | "deno";
  /** The command line, given the `--web.listen-address=…` flag. */
  readonly command: (listenFlag: string) => string[];
  /**
   * process_* families this runtime is known not to export. The test asserts exactly
   * this gap, so that a fix (or a regression) shows up as a failure to update here.
   */
  readonly missingProcessFamilies: readonly string[];
}

const RUNTIMES: Runtime[] = [
  {
    name: "compiled binary (bun build --compile)",
    runtime: "bun",
    command: (listen) => [builtExporter(), listen],
    missingProcessFamilies: [],
  },
  {
    name: "deno run main.ts",
    runtime: "deno",
    command: (listen) => [DENO, "run", ...denoPerms(), "main.ts", listen],
    // Deno 2.x refuses every read under /proc (NotCapable, "Requires all access …
    // run again with the --allow-all flag") whatever --allow-read says. With the
    // Makefile's narrow DENO_PERMS, RSS and start time come from the runtime instead;
    // these three exist only in /proc and are left out rather than reported as 0.
    missingProcessFamilies: [
      "process_open_fds",
      "process_max_fds",
      "process_virtual_memory_bytes",
    ],
  },
];

/** Requests outside the telemetry path, and what each must get. */
const OTHER_REQUESTS = [
  { method: "GET", path: "/-/healthy", status: 200 },
  { method: "POST", path: "/metrics", status: 405 },
  { method: "GET", path: "/metrics/", status: 404 },
  { method: "GET", path: "/metricsx", status: 404 },
  { method: "GET", path: "/favicon.ico", status: 404 },
  { method: "GET", path: "/api/v1/query", status: 404 },
  // "/" is left out: it is the landing page (web/landing.ts), as in exporter-toolkit.
];

afterAll(stopAll, 20_000);

for (const rt of RUNTIMES) {
  describe(rt.name, () => {
    let exporter: Exporter;
    let prom: Prometheus;

    // Prometheus starts here so that its first scrapes overlap the HTTP tests.
    beforeAll(async () => {
      exporter = await startExporter(rt.name, rt.command);
      prom = await startPrometheus(JOB, exporter.address);
    }, 40_000);
    afterAll(async () => {
      await prom?.stop();
      await exporter?.proc.stop();
    }, 20_000);

    test("GET /metrics: text format 0.0.4 with the tutorial counters and the standard families", async () => {
      const res = await get(`${exporter.url}/metrics`);
      const body = await res.text();
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(TEXT_CONTENT_TYPE);
      expect(tutorialBlock(body)).toBe(TUTORIAL_LINES);

      const families = familiesWithSamples(body);
      expect(OTHER_FAMILIES.filter((f) => !families.has(f))).toEqual([]);
      expect(PROCESS_FAMILIES.filter((f) => !families.has(f))).toEqual([
        ...rt.missingProcessFamilies,
      ]);
      expect(body).toMatch(
        new RegExp(
          `^js_runtime_info\\{(?:.*,)?runtime="${rt.runtime}"[,}].* 1$`,
          "m",
        ),
      );
    });

    test(
      "promtool check metrics: no findings beyond the allow-list",
      async () => {
        const body = await (await get(`${exporter.url}/metrics`)).text();
        const r = await run("promtool", ["check", "metrics"], body);
        const output = r.stdout + r.stderr;
        const unexpected = output.split("\n").filter((l) => l !== "" && !ALLOWED_PROMTOOL_FINDINGS.includes(l));
        // Exit 0 means no findings, 3 lint findings only; 1 means it could not parse.
        if (!(r.code === 0 || r.code === 3) || unexpected.length > 0) {
          throw new Error(
            `promtool check metrics: got exit ${r.code} and ${unexpected.length} finding(s) outside the allow-list, ` +
              `want none:\n${unexpected.join("\n")}\n--- full output ---\n${output}`,
          );
        }
      },
      20_000,
    );

    test(
      "a real Prometheus scrapes it and stores foo_metric, not foo_metric_total",
      async () => {
        await expectStored(prom, "foo_metric");
      },
      60_000,
    );

    for (const r of OTHER_REQUESTS) {
      test(`${r.method} ${r.path} answers ${r.status}`, async () => {
        const res = await get(`${exporter.url}${r.path}`, { method: r.method });
        await res.body?.cancel();
        expect(res.status).toBe(r.status);
      });
    }

    // Last: it ends the process. Prometheus is still scraping every second, so its
    // kept-alive connection is typically open, and must not hold the shutdown up.
    test("SIGTERM: exits with code 0 within 2 s", async () => {
      process.kill(exporter.proc.pid, "SIGTERM");
      const exit = await exporter.proc.waitExit(2_000);
      if (exit === undefined) {
        throw new Error(
          `got no exit within 2 s of SIGTERM, want exit 0\n${exporter.proc.describe()}`,
        );
      }
      expect(exit).toEqual({ code: 0, signal: null });
    });
  });
}

for (const rt of RUNTIMES) {
  describe(`${rt.name}, --web.enable-openmetrics`, () => {
    let exporter: Exporter;
    let prom: Prometheus;

    beforeAll(async () => {
      exporter = await startExporter(
        `${rt.name} --web.enable-openmetrics`,
        (listen) => [
          ...rt.command(listen),
          "--web.enable-openmetrics",
        ],
      );
      prom = await startPrometheus(JOB, exporter.address);
    }, 40_000);
    afterAll(async () => {
      await prom?.stop();
      await exporter?.proc.stop();
    }, 20_000);

    test("Prometheus' Accept header gets OpenMetrics 1.0.0, a counter without _total typed unknown (as prometheus/common), ending in # EOF", async () => {
      const res = await get(`${exporter.url}/metrics`, {
        headers: { Accept: PROMETHEUS_ACCEPT },
      });
      const body = await res.text();
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(OPENMETRICS_CONTENT_TYPE);
      expect(body).toContain("# TYPE foo_metric unknown\nfoo_metric 1.0\n");
      expect(body.endsWith("\n# EOF\n")).toBe(true);
    });

    test("a scrape without Accept still gets the text format 0.0.4", async () => {
      const res = await get(`${exporter.url}/metrics`);
      const body = await res.text();
      expect(res.headers.get("content-type")).toBe(TEXT_CONTENT_TYPE);
      expect(tutorialBlock(body)).toBe(TUTORIAL_LINES);
    });

    test(
      "python3-prometheus-client's OpenMetrics parser accepts the body",
      async () => {
        const body = await (await get(`${exporter.url}/metrics`, {
          headers: { Accept: PROMETHEUS_ACCEPT },
        })).text();
        // Prints {family: type}; the parser raises on anything OpenMetrics forbids.
        const script = "import sys, json\n" +
          "from prometheus_client.openmetrics.parser import text_string_to_metric_families as p\n" +
          "print(json.dumps({f.name: f.type for f in p(sys.stdin.read())}))";
        const r = await run(DEBIAN_PYTHON, ["-c", script], body);
        if (r.code !== 0) {
          throw new Error(
            `${DEBIAN_PYTHON} OpenMetrics parser: got exit ${r.code}, want 0 ` +
              `(is python3-prometheus-client installed? make system-deps):\n${r.stderr}`,
          );
        }
        const types = JSON.parse(r.stdout) as Record<string, string>;
        expect(types.foo_metric).toBe("unknown");
        expect(types.bar_metric).toBe("unknown");
        expect(types.process_cpu_seconds).toBe("counter"); // exported on both runtimes
      },
      20_000,
    );

    test(
      "a real Prometheus scrapes it and stores foo_metric under its own name",
      async () => {
        await expectStored(prom, "foo_metric");
      },
      60_000,
    );
  });
}

/**
 * The six lines from the first "# HELP bar_metric" on, or the whole body when there is
 * no such line, so that a failure shows what was served instead.
 */
function tutorialBlock(body: string): string {
  const at = body.indexOf("# HELP bar_metric ");
  if (at < 0) return body;
  return body.slice(at).split("\n").slice(0, 6).join("\n") + "\n";
}

/** Names of the families in a text-format body that have a TYPE line and a sample. */
function familiesWithSamples(body: string): Set<string> {
  const sampled = new Set(
    [...body.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/gm)].map((m) => m[1]),
  );
  return new Set(
    [...body.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]).filter((n) => sampled.has(n)),
  );
}

/**
 * Waits (25 s at most each) until Prometheus reports the job up and `name` at 1, then
 * checks that foo_metric is stored under `name` alone, not also under the other name.
 */
async function expectStored(
  prom: Prometheus,
  name: "foo_metric" | "foo_metric_total",
): Promise<void> {
  const untilOne = (promql: string) =>
    waitFor(`${promql} == 1`, async () => {
      const r = await prom.query(promql);
      if (r.length === 1 && r[0].value[1] === "1") return true;
      throw new Error(`got ${JSON.stringify(r)}, want one sample of value 1`);
    }, { timeoutMs: 25_000, proc: prom.proc });
  await untilOne(`up{job="${JOB}"}`);
  await untilOne(`${name}{job="${JOB}"}`);
  const stored = await prom.query(
    `{__name__=~"foo_metric(_total)?", job="${JOB}"}`,
  );
  expect(stored.map((s) => s.metric.__name__).sort()).toEqual([name]);
}
