// The command line: parseArgs and parseDuration as pure functions, then main.ts as a
// subprocess for what only a whole program shows (exit codes, usage on stderr, and
// the flags' effect on what /metrics serves).
import { afterAll, describe, expect, test } from "bun:test";
import { familyNames, sampleValue } from "../testing/http.ts";
import { Program, runToExit } from "../testing/process.ts";
import { defaultNamespace as NS } from "../promhttp/collector_metrics.ts";
import { splitHostPort } from "./address.ts";
import { flagDefs } from "./exporter_flags.ts";
import { envName, type FlagDef, FlagError, type FlagValues, parseArgs, parseDuration, usage } from "./flags.ts";

const defs: FlagDef[] = [
  ...flagDefs,
  { name: "collector.foo", kind: "bool", default: true, help: "Enable the foo collector." },
];

/** The FlagError `fn` throws; fails the test when it throws nothing or something else. */
function flagError(fn: () => unknown): FlagError {
  try {
    fn();
  } catch (e) {
    if (e instanceof FlagError) return e;
    throw new Error(`threw ${e}, want a FlagError`);
  }
  throw new Error("threw nothing, want a FlagError");
}

describe("parseArgs", () => {
  test("no arguments: every flag has its default", () => {
    expect(parseArgs(defs, [])).toEqual({
      "web.listen-address": [":8080"],
      "web.telemetry-path": "/metrics",
      "web.max-requests": 40,
      "web.timeout": 0,
      "web.write-timeout": 30_000,
      "web.read-header-timeout": 10_000,
      "web.idle-timeout": 120_000,
      "web.max-connections": 512,
      "web.enable-openmetrics": false,
      "web.disable-exporter-metrics": false,
      "log.level": "info",
      "log.format": "logfmt",
      "web.config.file": "",
      "web.health-without-auth": true,
      "web.config.check": "",
      "healthcheck": false,
      "version": false,
      "help": false,
      "collector.foo": true,
    });
  });

  const valued: { flag: string; raw: string; want: FlagValues[string] }[] = [
    { flag: "web.listen-address", raw: "127.0.0.1:9100", want: ["127.0.0.1:9100"] },
    { flag: "web.telemetry-path", raw: "/prom", want: "/prom" },
    { flag: "web.max-requests", raw: "7", want: 7 },
    { flag: "web.max-requests", raw: "0", want: 0 },
    { flag: "web.timeout", raw: "1m30s", want: 90_000 },
    { flag: "web.read-header-timeout", raw: "5s", want: 5_000 },
    { flag: "web.idle-timeout", raw: "0", want: 0 },
    { flag: "web.max-connections", raw: "100", want: 100 },
    { flag: "log.level", raw: "debug", want: "debug" },
    { flag: "log.format", raw: "json", want: "json" },
  ];
  for (const c of valued) {
    test(`--${c.flag}=${c.raw} and --${c.flag} ${c.raw}`, () => {
      expect(parseArgs(defs, [`--${c.flag}=${c.raw}`])[c.flag]).toEqual(c.want);
      expect(parseArgs(defs, [`--${c.flag}`, c.raw])[c.flag]).toEqual(c.want);
    });
  }

  const bools = defs.filter((d) => d.kind === "bool").map((d) => d.name);
  test(`booleans: --x, --no-x, --x=true, --x=false (${bools.join(", ")})`, () => {
    for (const b of bools) {
      expect(`--${b}: ${parseArgs(defs, [`--${b}`])[b]}`).toBe(`--${b}: true`);
      expect(`--no-${b}: ${parseArgs(defs, [`--no-${b}`])[b]}`).toBe(`--no-${b}: false`);
      expect(`--${b}=true: ${parseArgs(defs, [`--${b}=true`])[b]}`).toBe(`--${b}=true: true`);
      expect(`--${b}=false: ${parseArgs(defs, [`--${b}=false`])[b]}`).toBe(`--${b}=false: false`);
    }
  });

  test("--web.listen-address is repeatable, in order, in both forms", () => {
    const v = parseArgs(defs, ["--web.listen-address=:1", "--web.listen-address", "[::1]:2", "--web.listen-address=a:3"]);
    expect(v["web.listen-address"]).toEqual([":1", "[::1]:2", "a:3"]);
  });

  test("a value may contain '=' and start with '-'", () => {
    expect(parseArgs(defs, ["--web.telemetry-path=/a=b"])["web.telemetry-path"]).toBe("/a=b");
    expect(parseArgs(defs, ["--web.max-requests", "-1"])["web.max-requests"]).toBe(-1);
  });
});

describe("environment variables", () => {
  test("EXPORTER_* names", () => {
    expect(envName("web.listen-address")).toBe("EXPORTER_WEB_LISTEN_ADDRESS");
    expect(envName("collector.foo")).toBe("EXPORTER_COLLECTOR_FOO");
  });

  test("apply when the flag is absent", () => {
    const v = parseArgs(defs, [], {
      EXPORTER_WEB_LISTEN_ADDRESS: "127.0.0.1:1, :2",
      EXPORTER_WEB_TELEMETRY_PATH: "/env",
      EXPORTER_WEB_MAX_REQUESTS: "3",
      EXPORTER_WEB_TIMEOUT: "10s",
      EXPORTER_WEB_ENABLE_OPENMETRICS: "true",
      EXPORTER_LOG_LEVEL: "warn",
      EXPORTER_LOG_FORMAT: "json",
      EXPORTER_COLLECTOR_FOO: "false",
    });
    expect(v["web.listen-address"]).toEqual(["127.0.0.1:1", ":2"]);
    expect(v["web.telemetry-path"]).toBe("/env");
    expect(v["web.max-requests"]).toBe(3);
    expect(v["web.timeout"]).toBe(10_000);
    expect(v["web.enable-openmetrics"]).toBe(true);
    expect(v["log.level"]).toBe("warn");
    expect(v["log.format"]).toBe("json");
    expect(v["collector.foo"]).toBe(false);
  });

  test("the command line wins", () => {
    const env = { EXPORTER_WEB_LISTEN_ADDRESS: ":1,:2", EXPORTER_WEB_MAX_REQUESTS: "3", EXPORTER_COLLECTOR_FOO: "false" };
    const v = parseArgs(defs, ["--web.listen-address=:9", "--web.max-requests=5", "--collector.foo"], env);
    expect(v["web.listen-address"]).toEqual([":9"]);
    expect(v["web.max-requests"]).toBe(5);
    expect(v["collector.foo"]).toBe(true);
  });

  test("--help, --version and --healthcheck are never taken from the environment", () => {
    const v = parseArgs(defs, [], { EXPORTER_HELP: "true", EXPORTER_VERSION: "true", EXPORTER_HEALTHCHECK: "true" });
    expect([v.help, v.version, v.healthcheck]).toEqual([false, false, false]);
  });

  test("an empty variable counts as unset", () => {
    expect(parseArgs(defs, [], { EXPORTER_WEB_MAX_REQUESTS: "" })["web.max-requests"]).toBe(40);
  });

  test("a bad value from the environment names the flag and the value", () => {
    const e = flagError(() => parseArgs(defs, [], { EXPORTER_WEB_MAX_REQUESTS: "lots" }));
    expect(e.message).toContain("--web.max-requests");
    expect(e.message).toContain('"lots"');
  });
});

describe("bad command lines throw a FlagError naming the culprit", () => {
  const cases: { name: string; args: string[]; culprits: string[] }[] = [
    { name: "unknown flag", args: ["--web.listen"], culprits: ["--web.listen"] },
    { name: "unknown negated flag", args: ["--no-such-thing"], culprits: ["--no-such-thing"] },
    { name: "negating a flag that is not a boolean", args: ["--no-web.timeout"], culprits: ["--no-web.timeout"] },
    { name: "bad int", args: ["--web.max-requests=ten"], culprits: ["--web.max-requests", '"ten"'] },
    { name: "fractional int", args: ["--web.max-requests=1.5"], culprits: ["--web.max-requests", '"1.5"'] },
    { name: "bad duration", args: ["--web.timeout=5x"], culprits: ["--web.timeout", '"5x"'] },
    { name: "bad duration, separate value", args: ["--web.timeout", "soon"], culprits: ["--web.timeout", '"soon"'] },
    { name: "bad enum", args: ["--log.level=verbose"], culprits: ["--log.level", '"verbose"', "debug, info, warn, error"] },
    { name: "bad enum, log format", args: ["--log.format=xml"], culprits: ["--log.format", '"xml"'] },
    { name: "bad boolean", args: ["--web.enable-openmetrics=yes"], culprits: ["--web.enable-openmetrics", '"yes"'] },
    { name: "missing value", args: ["--web.telemetry-path"], culprits: ["--web.telemetry-path"] },
    { name: "given twice", args: ["--log.level=info", "--log.level=debug"], culprits: ["--log.level"] },
    { name: "positional argument", args: ["serve"], culprits: ['"serve"'] },
    { name: "a boolean does not take a separate value", args: ["--healthcheck", "true"], culprits: ['"true"'] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const e = flagError(() => parseArgs(defs, c.args));
      for (const s of c.culprits) expect(e.message).toContain(s);
    });
  }
});

describe("splitHostPort (--web.listen-address)", () => {
  const good: [string, string, number][] = [
    [":8080", "0.0.0.0", 8080],
    ["127.0.0.1:9100", "127.0.0.1", 9100],
    ["localhost:0", "localhost", 0],
    ["[::1]:9100", "::1", 9100],
    ["[::]:80", "::", 80],
  ];
  for (const [addr, hostname, port] of good) {
    test(`${addr} → ${hostname} port ${port}`, () => {
      expect(splitHostPort(addr)).toEqual({ hostname, port });
    });
  }
  for (const addr of ["8080", "127.0.0.1", ":99999", "[::1]", "::1:80", "host:port", "", ":", "a:1:2", "[::1]:"]) {
    test(`${JSON.stringify(addr)} is refused, naming the flag and the value`, () => {
      const e = flagError(() => splitHostPort(addr));
      expect(e.message).toContain("--web.listen-address");
      expect(e.message).toContain(JSON.stringify(addr));
    });
  }
});

describe("parseDuration", () => {
  const cases: [string, number | undefined][] = [
    ["30s", 30_000],
    ["500ms", 500],
    ["1m", 60_000],
    ["1h", 3_600_000],
    ["1m30s", 90_000],
    ["1h2m3s4ms", 3_723_004],
    ["1.5s", 1500],
    ["0", 0],
    ["0s", 0],
    ["10", 10_000],
    ["", undefined],
    ["s", undefined],
    ["5x", undefined],
    ["-1s", undefined],
    ["1m 30s", undefined],
    ["1s ", undefined],
    ["1d", undefined],
    ["ms", undefined],
    ["1.s", undefined],
  ];
  for (const [s, want] of cases) {
    test(`${JSON.stringify(s)} → ${want}`, () => {
      expect(parseDuration(s)).toBe(want);
    });
  }
});

describe("usage", () => {
  test("lists every flag with its environment variable", () => {
    const u = usage("exporter", defs);
    expect(u.startsWith("usage: exporter [<flags>]\n")).toBe(true);
    for (const d of defs) {
      expect(u).toContain(d.kind === "bool" ? `--[no-]${d.name}` : `--${d.name}=`);
      if (d.noEnv) expect(u).not.toContain(`[$${envName(d.name)}]`);
      else expect(u).toContain(`[$${envName(d.name)}]`);
    }
  });
});

describe("main.ts on a bad command line", () => {
  const bad: { name: string; args: string[]; env?: Record<string, string>; culprits: string[] }[] = [
    { name: "unknown flag", args: ["--web.listen=:1"], culprits: ["--web.listen"] },
    { name: "bad int", args: ["--web.max-requests=ten"], culprits: ["--web.max-requests", '"ten"'] },
    { name: "negative int", args: ["--web.max-requests=-1"], culprits: ["--web.max-requests", "-1"] },
    { name: "bad duration", args: ["--web.timeout=5x"], culprits: ["--web.timeout", '"5x"'] },
    { name: "bad enum", args: ["--log.level=verbose"], culprits: ["--log.level", '"verbose"'] },
    { name: "bad listen address", args: ["--web.listen-address=8080"], culprits: ["--web.listen-address", '"8080"'] },
    { name: "telemetry path without a leading slash", args: ["--web.telemetry-path=metrics"], culprits: ["--web.telemetry-path", '"metrics"'] },
    { name: "bad value in the environment", args: [], env: { EXPORTER_LOG_FORMAT: "xml" }, culprits: ["--log.format", '"xml"'] },
  ];

  test("exits 2, names the culprit and shows usage on stderr", async () => {
    const results = await Promise.all(bad.map((c) => runToExit("main.ts", c.args, c.env)));
    results.forEach((r, i) => {
      const c = bad[i];
      expect(`${c.name}: exit ${r.code}`).toBe(`${c.name}: exit 2`);
      for (const s of c.culprits) expect(`${c.name}: ${r.stderr}`).toContain(s);
      expect(`${c.name}: ${r.stderr}`).toContain("usage: exporter [<flags>]");
      expect(`${c.name}: ${r.stderr}`).toContain("--[no-]collector.foo");
      expect(r.stdout).toBe("");
    });
  }, 60_000);

  test("--help exits 0 and prints usage", async () => {
    const r = await runToExit("main.ts", ["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("usage: exporter [<flags>]");
    expect(r.stdout).toContain("--web.listen-address=STRING");
    expect(r.stdout).toContain("--[no-]collector.foo");
  }, 30_000);

  test("--version exits 0 and prints the version", async () => {
    const r = await runToExit("main.ts", ["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^exporter, version \d+\.\d+\.\d+ \(revision: [^)]+\)\n$/);
  }, 30_000);
});

describe("main.ts: flags that shape /metrics", () => {
  const programs: Program[] = [];
  afterAll(async () => {
    await Promise.all(programs.map((p) => p.kill()));
  });

  /** Starts main.ts on a loopback port with `args`, scrapes once, and stops it with SIGTERM. */
  async function scrape(args: string[]): Promise<string> {
    const p = new Program("main.ts", ["--web.listen-address=127.0.0.1:0", ...args]);
    programs.push(p);
    const port = await p.port();
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    const body = await res.text();
    expect(res.status).toBe(200);
    expect((await p.stop()).code).toBe(0);
    return body;
  }
  const exporterOwn = (name: string) =>
    name.startsWith("promhttp_") || name.startsWith("process_") || name.startsWith("nodejs_") || name === "js_runtime_info";

  test("by default: foo_metric and the exporter's own metrics", async () => {
    const body = await scrape([]);
    const names = familyNames(body);
    expect(names).toContain("foo_metric");
    expect(names).toContain("promhttp_metric_handler_requests_total");
    expect(names).toContain("process_start_time_seconds");
    expect(names).toContain("js_runtime_info");
  }, 30_000);

  test("--web.disable-exporter-metrics drops promhttp_*, process_*, nodejs_*, js_runtime_info", async () => {
    const names = familyNames(await scrape(["--web.disable-exporter-metrics"]));
    expect(names.filter(exporterOwn)).toEqual([]);
    expect(names).toContain("foo_metric");
    expect(names).toContain(`${NS}_build_info`);
  }, 30_000);

  test("--no-collector.foo removes foo_metric and its per-collector series", async () => {
    const body = await scrape(["--no-collector.foo"]);
    expect(familyNames(body)).not.toContain("foo_metric");
    expect(familyNames(body)).not.toContain("bar_metric");
    expect(sampleValue(body, `${NS}_scrape_collector_success{collector="foo"}`)).toBeUndefined();
    expect(familyNames(body)).toContain("promhttp_metric_handler_requests_total");
  }, 30_000);
});
