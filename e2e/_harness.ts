// Process and HTTP plumbing for the end-to-end suite: free ports, child processes
// that are always reaped, bounded polling, promtool, the Python OpenMetrics parser
// and a throwaway Prometheus server. Every wait here has a deadline.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root; every process starts there. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));
/** The binary `make build` produces. */
export const EXPORTER: string = join(ROOT, "exporter");
/** The Deno the Makefile pins (an ELF binary, so its PID is the exporter's PID). */
export const DENO: string = join(ROOT, "node_modules/.bin/deno");
/** Debian's interpreter, which has python3-prometheus-client; PATH's may be a pyenv one. */
export const DEBIAN_PYTHON = "/usr/bin/python3";

/** The Accept header Prometheus 2.x sends on every scrape. */
export const PROMETHEUS_ACCEPT =
  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/**
 * The `deno run` permissions the Makefile ships (DENO_PERMS), read from the Makefile
 * so that the suite tests what `make run-deno` runs rather than a copy that drifts.
 */
export function denoPerms(): string[] {
  const m = readFileSync(join(ROOT, "Makefile"), "utf8").match(/^DENO_PERMS\s*:?=\s*(.+)$/m);
  if (!m) throw new Error("Makefile: no DENO_PERMS line; the suite runs deno with the Makefile's permissions");
  return m[1].trim().split(/\s+/);
}

/**
 * A port that was free a moment ago on 127.0.0.1. Another process could take it
 * before ours binds it; the window is tiny and a clash fails loudly at startup.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === "object" ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** How a child process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: string | null;
}

const live = new Set<Proc>();
const tempDirs = new Set<string>();
// Last resort if the test runner itself exits without running afterAll hooks.
process.on("exit", () => {
  for (const p of live) p.child.kill("SIGKILL");
});

/** A child process whose output is kept for failure messages and which stopAll() reaps. */
export class Proc {
  readonly child: ChildProcess;
  /** Interleaved stdout and stderr, the last 64 KiB. */
  output = "";
  /** Set once the process has ended. */
  exit: Exit | undefined;
  readonly exited: Promise<Exit>;

  constructor(readonly name: string, cmd: string, args: string[]) {
    this.child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    live.add(this);
    const append = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString("utf8")).slice(-64 * 1024);
    };
    this.child.stdout!.on("data", append);
    this.child.stderr!.on("data", append);
    this.exited = new Promise((resolve) => {
      const done = (e: Exit) => {
        live.delete(this);
        this.exit ??= e;
        resolve(this.exit);
      };
      this.child.once("exit", (code, signal) => done({ code, signal }));
      this.child.once("error", (err) => {
        this.output += `\nspawn ${cmd}: ${err.message}`;
        done({ code: null, signal: null });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves with the exit, or with undefined if it has not ended within `ms`. */
  waitExit(ms: number): Promise<Exit | undefined> {
    let timer: ReturnType<typeof setTimeout>;
    const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
    return Promise.race([this.exited, timeout]).finally(() => clearTimeout(timer));
  }

  /** SIGTERM, then SIGKILL after 5 s; idempotent. */
  async stop(): Promise<void> {
    if (this.exit) return;
    this.child.kill("SIGTERM");
    if (await this.waitExit(5_000)) return;
    this.child.kill("SIGKILL");
    await this.waitExit(5_000);
  }

  /** A description for failure messages: name, PID, how it ended, its output. */
  describe(): string {
    const state = this.exit ? `exited (code ${this.exit.code}, signal ${this.exit.signal})` : "running";
    return `${this.name} (pid ${this.child.pid}) ${state}; output:\n${this.output || "(none)"}`;
  }
}

/** Stops every process this harness started that is still running; removes its temp dirs. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
  await Promise.all([...tempDirs].map((d) => rm(d, { recursive: true, force: true })));
  tempDirs.clear();
}

/**
 * Polls `probe` every 100 ms until it returns a value other than undefined or false,
 * for at most `timeoutMs`. Fails at once if `proc` ends meanwhile. The timeout error
 * names what was awaited, the last error or value seen, and the process' output.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  opts: { timeoutMs: number; proc?: Proc },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown = "(never probed)";
  while (Date.now() < deadline) {
    if (opts.proc?.exit) throw new Error(`waiting for ${what}: ${opts.proc.describe()}`);
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (e) {
      last = e instanceof Error ? e.message : e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const tail = opts.proc ? `\n${opts.proc.describe()}` : "";
  throw new Error(`waiting for ${what}: gave up after ${opts.timeoutMs} ms; last: ${String(last)}${tail}`);
}

/** fetch with a 5 s bound, so that no request can hang a test. */
export function get(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(5_000) });
}

/** A running exporter. */
export interface Exporter {
  readonly proc: Proc;
  /** `127.0.0.1:PORT`, the value of --web.listen-address and of a scrape target. */
  readonly address: string;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
}

/**
 * Starts an exporter with `command(listenAddress)` on a free port and waits (15 s at
 * most) until /-/ready answers 200, i.e. until every listener is up.
 */
export async function startExporter(name: string, command: (listenFlag: string) => string[]): Promise<Exporter> {
  const address = `127.0.0.1:${await freePort()}`;
  const [cmd, ...args] = command(`--web.listen-address=${address}`);
  const proc = new Proc(name, cmd, args);
  const url = `http://${address}`;
  await waitFor(`${name} ready on ${url}`, async () => {
    const res = await get(`${url}/-/ready`);
    await res.body?.cancel();
    return res.status === 200;
  }, { timeoutMs: 15_000, proc });
  return { proc, address, url };
}

/** What a finished command printed. */
export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command with `stdin` as its input; kills it after `timeoutMs`. */
export async function run(cmd: string, args: string[], stdin: string, timeoutMs = 20_000): Promise<RunResult> {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  child.stdin.on("error", () => {}); // the command may exit before reading everything
  child.stdin.end(stdin);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    const code = await new Promise<number | null>((resolve) => {
      child.once("close", (c) => resolve(c));
      child.once("error", (e) => {
        stderr += `spawn ${cmd}: ${e.message}`;
        resolve(null);
      });
    });
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** One sample of an instant-query result. */
export interface Sample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

/** A throwaway Prometheus server scraping one job every second. */
export interface Prometheus {
  readonly proc: Proc;
  readonly url: string;
  /** Runs an instant query; throws unless the API answers success with a vector. */
  query(promql: string): Promise<Sample[]>;
  /** Stops the server and removes its configuration and TSDB. */
  stop(): Promise<void>;
}

/**
 * Starts Debian's Prometheus (2.x) with a temporary config and TSDB, scraping
 * `target` as `job` every second, and waits (20 s at most) until /-/ready is 200.
 */
export async function startPrometheus(job: string, target: string): Promise<Prometheus> {
  const dir = await mkdtemp(join(tmpdir(), "e2e-prometheus-"));
  tempDirs.add(dir);
  const config = join(dir, "prometheus.yml");
  await writeFile(
    config,
    `global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: ${JSON.stringify(job)}
    static_configs:
      - targets: [${JSON.stringify(target)}]
`,
  );
  const url = `http://127.0.0.1:${await freePort()}`;
  const proc = new Proc("prometheus", "prometheus", [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, "data")}`,
    `--web.listen-address=${url.slice("http://".length)}`,
    "--log.level=warn",
  ]);
  const stop = async () => {
    await proc.stop();
    await rm(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  };
  try {
    await waitFor(`prometheus ready on ${url}`, async () => {
      const res = await get(`${url}/-/ready`);
      await res.body?.cancel();
      return res.status === 200;
    }, { timeoutMs: 20_000, proc });
  } catch (e) {
    await stop();
    throw e;
  }
  const query = async (promql: string): Promise<Sample[]> => {
    const res = await get(`${url}/api/v1/query?${new URLSearchParams({ query: promql })}`);
    const body = await res.json() as { status: string; error?: string; data?: { resultType: string; result: Sample[] } };
    if (body.status !== "success" || body.data?.resultType !== "vector") {
      throw new Error(`query ${promql}: ${res.status} ${JSON.stringify(body)}`);
    }
    return body.data.result;
  };
  return { proc, url, query, stop };
}
