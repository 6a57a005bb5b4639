// upstream_exporter as an operator runs it: the program under the runtime of the
// test (`bun main.ts` under `bun test`, `deno run` with the Makefile's permissions
// under `deno test`) and, when `make build` made it, the compiled ./upstream_exporter;
// a stand-in upstream on 127.0.0.1; the flags on the command line and in the
// environment; the identity in --help, --version and the metrics.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { startUpstream, twoQueues, type Upstream } from "./upstream_test_server.ts";

const DIR = fileURLToPath(new URL(".", import.meta.url));
const g = globalThis as { Deno?: { execPath(): string } };
/** The Makefile's DENO_PERMS, so that the test runs what `make run-deno` runs. */
const denoPerms = readFileSync(new URL("Makefile", import.meta.url), "utf8").match(/^DENO_PERMS\s*:=\s*(.+)$/m)![1].trim().split(/\s+/);
const pkg = JSON.parse(readFileSync(new URL("package.json", import.meta.url), "utf8")) as { version: string };

/** How each way of running the exporter starts it. */
const programs: { name: string; argv: string[] }[] = [
  g.Deno
    ? { name: "deno run main.ts", argv: [g.Deno.execPath(), "run", ...denoPerms, "main.ts"] }
    : { name: "bun main.ts", argv: [process.execPath, "run", "main.ts"] },
];
// Built by `make build` (make test builds first); a plain `bun test` runs from source only.
const binary = process.env.UPSTREAM_EXPORTER_BINARY ?? "./upstream_exporter";
if (existsSync(new URL(binary, `file://${DIR}`))) programs.push({ name: "./upstream_exporter", argv: [binary] });
else console.error(`main_test.ts: no ${binary}; run \`make build\` to test the compiled binary too`);

/** The environment without the test's own UPSTREAM_EXPORTER_* settings. */
function env(extra: Record<string, string> = {}): Record<string, string> {
  const e: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("UPSTREAM_EXPORTER_") && v !== undefined) e[k] = v;
  return { ...e, ...extra };
}

/** A started exporter, its output so far and its exit. */
class Run {
  out = "";
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  constructor(argv: string[], args: string[], extraEnv: Record<string, string> = {}) {
    this.child = spawn(argv[0], [...argv.slice(1), ...args], { cwd: DIR, env: env(extraEnv), stdio: ["ignore", "pipe", "pipe"] });
    const read = (d: Uint8Array) => this.out += new TextDecoder().decode(d);
    this.child.stdout!.on("data", read);
    this.child.stderr!.on("data", read);
    this.exited = new Promise((resolve) => this.child.on("close", (code) => resolve(code)));
  }

  /** Waits (at most 20 s) for `re` in the output. */
  async waitFor(re: RegExp): Promise<RegExpMatchArray> {
    for (let i = 0; i < 400; i++) {
      const m = this.out.match(re);
      if (m) return m;
      if (this.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no ${re} in the output:\n${this.out}`);
  }

  /** Runs to the end (at most 20 s): exit code and output. */
  async end(): Promise<{ code: number | null; out: string }> {
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 20_000);
    const code = await this.exited;
    clearTimeout(timer);
    return { code, out: this.out };
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) process.kill(this.child.pid!, "SIGTERM");
    return (await this.end()).code;
  }
}

let upstream: Upstream;
beforeAll(async () => {
  upstream = await startUpstream(() => twoQueues);
});
afterAll(async () => {
  await upstream.stop();
});

/** Starts the exporter on a port of the system's choice and scrapes /metrics once. */
async function serveAndScrape(argv: string[], args: string[], extraEnv: Record<string, string> = {}): Promise<{ body: string; log: string }> {
  const run = new Run(argv, ["--web.listen-address=127.0.0.1:0", ...args], extraEnv);
  try {
    const port = (await run.waitFor(/msg="Listening on" address=127\.0\.0\.1:(\d+)/))[1];
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    const body = await res.text();
    expect(res.status).toBe(200);
    expect(await run.stop()).toBe(0);
    return { body, log: run.out };
  } finally {
    if (run.child.exitCode === null) run.child.kill("SIGKILL");
  }
}

for (const p of programs) {
  describe(p.name, () => {
    test("--upstream.url: serves the upstream's queues, upstream_exporter_build_info and its collector's success", async () => {
      const { body, log } = await serveAndScrape(p.argv, [`--upstream.url=${upstream.url}`]);
      expect(body).toContain('upstream_queue_depth{queue="default"} 3\n');
      expect(body).toContain('upstream_queue_processed_total{queue="mail"} 7\n');
      expect(body).toContain('upstream_info{version="1.4.2"} 1\n');
      expect(body).toMatch(new RegExp(`^upstream_exporter_build_info\\{revision="[^"]+",runtime="(bun|deno)",runtime_version="[^"]+",version="${pkg.version}"\\} 1$`, "m"));
      expect(body).toContain('upstream_exporter_scrape_collector_success{collector="upstream"} 1\n');
      expect(body).not.toContain("ts_exporter_");
      expect(log).toMatch(/msg="Starting upstream_exporter" version=\S+ revision=\S+ runtime=(bun|deno) runtime_version=\S+ collectors=upstream/);
    }, 30_000);

    test("UPSTREAM_EXPORTER_UPSTREAM_URL instead of the flag; --log.level=debug logs the collector's own line and each scrape", async () => {
      const { body, log } = await serveAndScrape(p.argv, ["--log.level=debug"], { UPSTREAM_EXPORTER_UPSTREAM_URL: upstream.url });
      expect(body).toContain('upstream_queue_depth{queue="default"} 3\n');
      expect(log).toMatch(/level=debug msg="read the upstream's status" collector=upstream url=\S+ queues=2/);
      expect(log).toMatch(/level=debug msg="collector succeeded" name=upstream duration_seconds=\S+ series=7/);
    }, 30_000);

    test("an upstream that fails: the scrape answers, with success 0 and the error logged", async () => {
      const { body, log } = await serveAndScrape(p.argv, [`--upstream.url=${upstream.url.replace("/status", "/gone")}`]);
      expect(body).toContain('upstream_exporter_scrape_collector_success{collector="upstream"} 0\n');
      expect(body).not.toContain("upstream_queue_depth");
      expect(log).toMatch(/level=error .*404/);
    }, 30_000);

    test("--help (and -h): its own name, its flags and its variables", async () => {
      const r = await new Run(p.argv, ["--help"]).end();
      expect(r.code).toBe(0);
      expect(r.out).toStartWith("usage: upstream_exporter --upstream.url=UPSTREAM.URL [<flags>]\n");
      expect(r.out).toMatch(/--upstream\.url=UPSTREAM\.URL +URL of the upstream's JSON status document\. \(\$UPSTREAM_EXPORTER_UPSTREAM_URL\)/);
      expect(r.out).toContain("--upstream.timeout=5s");
      expect(r.out).toContain("--[no-]collector.upstream");
      expect(r.out).toContain("($UPSTREAM_EXPORTER_WEB_LISTEN_ADDRESS)");
      expect(r.out).not.toContain("$EXPORTER_");
      expect((await new Run(p.argv, ["-h"]).end()).out).toBe(r.out);
    }, 30_000);

    test("--version: its own name and version", async () => {
      const r = await new Run(p.argv, ["--version"]).end();
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`^upstream_exporter, version ${pkg.version.replaceAll(".", "\\.")} \\(revision: [^)]+\\)\\n$`));
    }, 30_000);

    const bad: { name: string; args: string[]; want: string[] }[] = [
      { name: "without --upstream.url", args: [], want: ["required flag(s) '--upstream.url' not provided"] },
      { name: "a --upstream.url that is no URL", args: ["--upstream.url=localhost/status"], want: ["--upstream.url", '"localhost/status"'] },
      { name: "a bad --upstream.timeout", args: ["--upstream.url=http://x/", "--upstream.timeout=soon"], want: ["--upstream.timeout", '"soon"'] },
    ];
    for (const c of bad) {
      test(`${c.name}: exit 2, naming the culprit, with usage`, async () => {
        const r = await new Run(p.argv, c.args).end();
        expect(r.code).toBe(2);
        expect(r.out).toStartWith("upstream_exporter: error: ");
        for (const w of c.want) expect(r.out).toContain(w);
        expect(r.out).toContain("usage: upstream_exporter --upstream.url=UPSTREAM.URL [<flags>]");
      }, 30_000);
    }
  });
}
