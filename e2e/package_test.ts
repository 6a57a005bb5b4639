// The package as a user gets it: `make package` (npm pack), the tarball installed into
// a fresh directory outside the repository, and there a two-file exporter — a
// collector file and a main file that import the kit by package name — run under
// Bun, under `deno run` with narrow permissions, under Node 20 after `tsc`, and as a
// `bun build --compile` binary. Each is scraped, checked and stopped with SIGTERM.
// The commands are those of the README's "Use it in your own project".
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { stripVTControlCharacters } from "node:util";

// Every exporter gets --web.listen-address=127.0.0.1:0 after the README's command.
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "node_modules/.bin");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string; version: string };

interface Result {
  code: number | null;
  out: string;
}

/** Runs a command to its end, killing it after `ms`; resolves with its exit code and output. */
function run(cmd: string, args: string[], cwd: string, ms: number): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"], env: cleanEnv() });
    let out = "";
    child.stdout.on("data", (d: Uint8Array) => out += new TextDecoder().decode(d));
    child.stderr.on("data", (d: Uint8Array) => out += new TextDecoder().decode(d));
    const timer = setTimeout(() => {
      out += `\n(killed after ${ms} ms)`;
      child.kill("SIGKILL");
    }, ms);
    child.on("error", (e) => out += `spawn ${cmd}: ${e.message}`);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** The environment without EXPORTER_* settings, which would configure the exporters. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("EXPORTER_") && v !== undefined) env[k] = v;
  return env;
}

async function must(cmd: string, args: string[], cwd: string, ms = 60_000): Promise<string> {
  const r = await run(cmd, args, cwd, ms);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}:\n${r.out}`);
  return r.out;
}

const live = new Set<ChildProcess>();

/**
 * Starts an exporter listening on 127.0.0.1 with the port the system picks, waits (at
 * most 20 s) for its "Listening on" line, scrapes /metrics, then stops it with
 * SIGTERM and waits (at most 15 s) for the exit.
 */
async function scrape(
  cmd: string,
  args: string[],
  cwd: string,
): Promise<{ body: string; contentType: string; exit: number | null; log: string }> {
  const child = spawn(cmd, [...args, "--web.listen-address=127.0.0.1:0"], {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
    env: cleanEnv(),
  });
  live.add(child);
  let log = "";
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd}: no "Listening on" line in 20 s:\n${log}`)), 20_000);
    const onData = (d: Uint8Array) => {
      log += new TextDecoder().decode(d);
      const m = log.match(/msg="Listening on" address=127\.0\.0\.1:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited ${code} before listening:\n${log}`));
    });
  });
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) });
    const body = await res.text();
    expect(res.status).toBe(200);
    return { body, contentType: res.headers.get("content-type") ?? "", exit: await stop(child, exited), log };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    live.delete(child);
  }
}

async function stop(child: ChildProcess, exited: Promise<number | null>): Promise<number | null> {
  // process.kill, not child.kill: after child.kill Deno's node:child_process reports
  // the signal as the way the child ended, even when it handled it and exited 0.
  process.kill(child.pid!, "SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), 15_000));
  const r = await Promise.race([exited, timeout]);
  clearTimeout(timer);
  if (r === "timeout") throw new Error(`pid ${child.pid} did not exit within 15 s of SIGTERM`);
  return r;
}

// The user's two files and tsconfig.json are the README's own code blocks in "Use it
// in your own project", so that what it shows is what is tested.
const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const section = readme.slice(readme.indexOf("## Use it in your own project"));
const blocks = [...section.slice(0, section.indexOf("\n## ", 4)).matchAll(/```(\w+)\n([\s\S]*?)```/g)];
const [collectorTs, mainTs] = blocks.filter((b) => b[1] === "ts").map((b) => b[2]);
const tsconfig = blocks.find((b) => b[1] === "json")?.[2];
// A test of the collector with the kit's testutil, as the user would write it.
const collectorTest = `import { collectAndCompare } from "${pkg.name}/testutil";
import { WidgetCollector } from "./collector.ts";

await collectAndCompare(new WidgetCollector(), \`
  # HELP app_widgets Widgets on hand.
  # TYPE app_widgets gauge
  app_widgets{colour="blue"} 3
  app_widgets{colour="red"} 5
\`);
console.log("collector test passed");
`;
let dir = "";
let tarball = "";

/** What every runtime's scrape must show: the user's collector, the kit's families, the real runtime. */
function expectExporterOutput(
  r: { body: string; contentType: string; exit: number | null; log: string },
  runtime: string,
) {
  expect(r.contentType).toBe("text/plain; version=0.0.4; charset=utf-8; escaping=underscores");
  expect(r.body).toContain(
    '# HELP app_widgets Widgets on hand.\n# TYPE app_widgets gauge\napp_widgets{colour="blue"} 3\napp_widgets{colour="red"} 5\n',
  );
  expect(r.body).toMatch(
    new RegExp(
      `^ts_exporter_build_info\\{revision="[^"]+",runtime="${runtime}",runtime_version="[^"]+",version="[^"]+"\\} 1$`,
      "m",
    ),
  );
  expect(r.body).toMatch(new RegExp(`^js_runtime_info\\{runtime="${runtime}",version="[^"]+"\\} 1$`, "m"));
  expect(r.body).toMatch(/^process_cpu_seconds_total \d/m);
  expect(r.body).toMatch(/^process_resident_memory_bytes [1-9]/m);
  expect(r.body).toMatch(/^ts_exporter_scrape_collector_success\{collector="widgets"\} 1$/m);
  expect(r.log).not.toMatch(/level=(warn|error)/);
  expect(r.exit).toBe(0);
}

describe(`the packed ${pkg.name} in a project of its own`, () => {
  beforeAll(async () => {
    // -o: never reinstall the node modules under the running test (see builtExporter).
    await must("make", ["--no-print-directory", "-o", "node_modules/.installed", "package"], ROOT, 120_000);
    const packed = readdirSync(join(ROOT, ".tmp/package")).filter((f) => f.endsWith(".tgz"));
    expect(packed).toHaveLength(1);
    tarball = join(ROOT, ".tmp/package", packed[0]);
    dir = mkdtempSync(join(tmpdir(), "exporter-kit-consumer-"));
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({ name: "my-exporter", private: true, type: "module" }, null, 2),
    );
    writeFileSync(join(dir, "collector.ts"), collectorTs);
    writeFileSync(join(dir, "main.ts"), mainTs);
    writeFileSync(join(dir, "collector_check.ts"), collectorTest);
    writeFileSync(join(dir, "tsconfig.json"), tsconfig!);
    // The kit's own dependencies come from npm's cache, filled by the repository's npm ci.
    await must("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], dir, 120_000);
  }, 240_000);

  afterAll(() => {
    for (const c of live) c.kill("SIGKILL");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the README's files import the package by its name", () => {
    expect(collectorTs).toContain(`from "${pkg.name}/prometheus"`);
    expect(mainTs).toContain(`from "${pkg.name}/web"`);
    expect(mainTs).toContain(`from "./collector.ts"`);
    expect(JSON.parse(tsconfig!).compilerOptions.outDir).toBe("out");
  });

  test("the tarball holds the sources for Bun and dist/ for Node and Deno, and no tests", async () => {
    const list = (await must("tar", ["-tzf", tarball], dir)).split("\n").filter(Boolean);
    expect(list).toContain("package/prometheus/mod.ts");
    expect(list).toContain("package/dist/prometheus/mod.js");
    expect(list).toContain("package/dist/prometheus/mod.d.ts");
    expect(list).toContain("package/dist/web/_serve_node.js");
    expect(list.filter((f) => f.endsWith("_test.ts") || f.includes("/testdata/"))).toEqual([]);
    // tsc rewrote every relative import to the .js file it emitted.
    const js = readFileSync(join(dir, "node_modules", pkg.name, "dist/web/adapter.js"), "utf8");
    expect(js).toContain('import("./_serve_node.js")');
    expect(js).not.toMatch(/from "\.[^"]*\.ts"|import\("\.[^"]*\.ts"\)/);
  });

  test("Bun: bun run main.ts", async () => {
    expectExporterOutput(await scrape(join(BIN, "bun"), ["run", "main.ts"], dir), "bun");
  }, 60_000);

  test("Bun: the collector's test with the kit's testutil", async () => {
    expect(await must(join(BIN, "bun"), ["run", "collector_check.ts"], dir)).toContain("collector test passed");
  }, 60_000);

  test("Deno: deno run with network and EXPORTER_* permissions only, JavaScript and types from dist/", async () => {
    expectExporterOutput(
      await scrape(join(BIN, "deno"), ["run", "--allow-net=127.0.0.1", "--allow-env=EXPORTER_*", "main.ts"], dir),
      "deno",
    );
  }, 60_000);

  test("Deno: deno check of the user's files against the package's .d.ts", async () => {
    await must(join(BIN, "deno"), ["check", "main.ts", "collector_check.ts"], dir);
  }, 60_000);

  test("Node 20: tsc, then node out/main.js, on node:http", async () => {
    // The README's `npx tsc`, with the repository's pinned TypeScript rather than one
    // installed into the project from the registry.
    await must(join(BIN, "tsc"), [], dir);
    const r = await scrape("node", ["out/main.js"], dir);
    expectExporterOutput(r, "node");
    // Node's own /proc values: the process collector reads them on Node as on Bun.
    expect(r.body).toMatch(/^process_open_fds [1-9]/m);
    expect(r.body).toMatch(/^process_max_fds [1-9]/m);
    expect(await must("node", ["out/collector_check.js"], dir)).toContain("collector test passed");
  }, 90_000);

  test("Node 20: --web.listen-address=:PORT listens on IPv4 and IPv6, as Go's :PORT (issue 15 part 5)", async () => {
    // out/main.js is the previous test's tsc output.
    const child = spawn("node", ["out/main.js", "--web.listen-address=:0"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
      env: cleanEnv(),
    });
    live.add(child);
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    try {
      let log = "";
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "Listening on" line in 20 s:\n${log}`)), 20_000);
        const onData = (d: Uint8Array) => {
          log += new TextDecoder().decode(d);
          const m = log.match(/msg="Listening on" address=\[::\]:(\d+)/);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        };
        child.stdout!.on("data", onData);
        child.stderr!.on("data", onData);
      });
      for (const host of ["127.0.0.1", "[::1]"]) {
        const res = await fetch(`http://${host}:${port}/-/healthy`, { signal: AbortSignal.timeout(10_000) });
        expect(`${host}: ${res.status} ${await res.text()}`).toBe(`${host}: 200 Healthy.\n`);
      }
      expect(await stop(child, exited)).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      live.delete(child);
    }
  }, 60_000);

  test("bun build --compile: one binary", async () => {
    await must(join(BIN, "bun"), ["build", "--compile", "main.ts", "--outfile", "my_exporter"], dir, 120_000);
    expectExporterOutput(await scrape(join(dir, "my_exporter"), [], dir), "bun");
  }, 150_000);

  test("JSR: deno publish --dry-run finds no slow types and no other problem but the missing license", async () => {
    // It runs offline: type checks every export of deno.json and the no-slow-types
    // rule. The project has not chosen a license yet, which JSR requires; every other
    // problem fails this test.
    const r = await run(join(BIN, "deno"), ["publish", "--dry-run", "--allow-dirty"], ROOT, 120_000);
    const out = stripVTControlCharacters(r.out);
    const problems = [...out.matchAll(/^error\[([\w-]+)\]/gm)].map((m) => m[1]);
    expect(problems.filter((p) => p !== "missing-license")).toEqual([]);
    expect(out).toContain("Checking for slow types in the public API");
    if (r.code !== 0) expect(problems).toEqual(["missing-license"]);
  }, 150_000);
});
