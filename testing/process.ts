// The one process harness of the test and benchmark suites (e2e/, reliability/, bench/,
// the tests of web/): where programs live, how each is started as its users start it,
// waiting for it with a deadline, stopping it, and what /proc says about it. Every
// process started here is tracked until it ends and killed if the test process exits
// first, so no suite leaves a server behind. Runs on Bun and on Deno.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The repository root; every process starts there. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));
/** The binary `make build` produces. */
export const EXPORTER: string = join(ROOT, "exporter");

/** What the binary is compiled from: a change to any of these makes ./exporter stale. */
const BINARY_SOURCES = ["main.ts", "collector.ts", "build.flags", "package.json", "prometheus", "promhttp", "web"];

function newestSource(): number {
  let newest = 0;
  const visit = (path: string): void => {
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      for (const e of readdirSync(path)) if (!e.endsWith("_test.ts") && e !== "testdata") visit(join(path, e));
    } else if (st.mtimeMs > newest) newest = st.mtimeMs;
  };
  for (const s of BINARY_SOURCES) visit(join(ROOT, s));
  return newest;
}

let built = false;
/**
 * The path of `./exporter`, built first with `make build` when it is missing or older
 * than its sources: `bun test` run by hand then tests the code as it is, never a stale
 * binary or none (`make test` builds it before the suites anyway).
 */
export function builtExporter(): string {
  if (built) return EXPORTER;
  const st = statSync(EXPORTER, { throwIfNoEntry: false });
  if (!st || st.mtimeMs < newestSource()) {
    console.error(`>> ${st ? "./exporter is older than its sources" : "./exporter is missing"}: running make build`);
    // -o: the node modules this test runs on are installed; `make deps` would reinstall
    // them (npm ci) under the running test when node_modules/.installed is absent, as
    // after a plain `npm ci`, deleting the very runtime executing it.
    const r = spawnSync("make", ["--no-print-directory", "-o", "node_modules/.installed", "build"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 180_000,
    });
    if (r.status !== 0 || !existsSync(EXPORTER)) {
      throw new Error(
        `make build failed (exit ${r.status ?? r.signal}); the suites need ./exporter:\n${r.stdout}${r.stderr}`,
      );
    }
  }
  built = true;
  return EXPORTER;
}
/** The Deno the Makefile pins (an ELF binary, so its PID is the program's PID). */
export const DENO: string = join(ROOT, "node_modules/.bin/deno");
/** Debian's interpreter, which has python3-prometheus-client; PATH's may be a pyenv one. */
export const DEBIAN_PYTHON = "/usr/bin/python3";

let perms: string[] | undefined;
/**
 * The `deno run` permissions the Makefile ships (DENO_PERMS), read from the Makefile
 * so that the suites test what `make run-deno` runs rather than a copy that drifts.
 */
export function denoPerms(): string[] {
  if (perms) return [...perms];
  const m = readFileSync(join(ROOT, "Makefile"), "utf8").match(/^DENO_PERMS\s*:?=\s*(.+)$/m);
  if (!m) throw new Error("Makefile: no DENO_PERMS line; the suites run deno with the Makefile's permissions");
  perms = m[1].trim().split(/\s+/);
  return [...perms];
}

/**
 * A port that was free a moment ago on 127.0.0.1 (the kernel picked it). Another
 * process could take it before ours binds it; the window is tiny and a clash fails
 * loudly at startup. Synchronous, so that a command line can be built in one
 * expression.
 */
export function freePort(): number {
  const g = globalThis as {
    Bun?: { listen(o: object): { port: number; stop(force: boolean): void } };
    Deno?: { listen(o: object): { addr: { port: number }; close(): void } };
  };
  if (g.Bun) {
    const s = g.Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = s.port;
    s.stop(true);
    return port;
  }
  const l = g.Deno!.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How a process ended: its exit code, or the signal that ended it. */
export interface Exit {
  readonly code: number | null;
  readonly signal: string | null;
}

/** How {@linkcode Proc} starts a process. */
export interface ProcOptions {
  /** Added to the environment, which never carries the test's own EXPORTER_* variables. */
  readonly env?: Record<string, string>;
  /** "pipe" to write to the process with {@linkcode Proc.send}; "ignore" by default. */
  readonly stdin?: "pipe" | "ignore";
  /** A file that receives stdout and stderr instead of the in-memory buffers. */
  readonly log?: string;
  /**
   * How many characters of stdout and of stderr to keep, the last ones; 1 Mi by
   * default: enough for any failure message, bounded under a flood of log lines.
   * Infinity for output that is a result.
   */
  readonly keep?: number;
}

const live = new Set<Proc>();
// The last resort when the runner exits without running afterAll or stopAll.
process.on("exit", () => {
  for (const p of live) p.child.kill("SIGKILL");
});

/**
 * A child process: its output so far, ways to wait for output and for its end, and a
 * stop that always ends it. A setting of the exporter comes from its flags or
 * `opts.env`, never from the environment the test happens to run in.
 */
export class Proc {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  /** stdout and stderr interleaved as they arrived. */
  output = "";
  /** Set once the process has ended. */
  exit: Exit | undefined;
  /** Resolves when the process has ended and its output has been read to the end. */
  readonly exited: Promise<Exit>;
  #waiters = new Set<() => void>();
  readonly #log: string | undefined;

  constructor(readonly name: string, cmd: string, args: readonly string[], opts: ProcOptions = {}) {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("EXPORTER_") && v !== undefined) env[k] = v;
    Object.assign(env, opts.env);
    this.#log = opts.log;
    const fd = opts.log === undefined ? undefined : openSync(opts.log, "w");
    try {
      this.child = spawn(cmd, [...args], {
        cwd: ROOT,
        env,
        stdio: [opts.stdin ?? "ignore", fd ?? "pipe", fd ?? "pipe"],
      });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    live.add(this);
    const notify = () => this.#waiters.forEach((w) => w());
    const keep = opts.keep ?? 1 << 20;
    const reader = (stream: "stdout" | "stderr") => {
      // One decoder per stream: a character split between two chunks stays whole.
      const decoder = new TextDecoder();
      return (d: Uint8Array) => read(stream, decoder.decode(d, { stream: true }));
    };
    const read = (stream: "stdout" | "stderr", s: string) => {
      this[stream] += s;
      this.output += s;
      if (this[stream].length > keep) this[stream] = this[stream].slice(-keep);
      if (this.output.length > 2 * keep) this.output = this.output.slice(-2 * keep);
      notify();
    };
    this.child.stdout?.on("data", reader("stdout"));
    this.child.stderr?.on("data", reader("stderr"));
    // The process may exit before it reads what was written to it.
    this.child.stdin?.on("error", () => {});
    this.exited = new Promise((resolve) => {
      const done = (e: Exit) => {
        live.delete(this);
        this.exit ??= e;
        notify();
        resolve(this.exit);
      };
      // "close", not "exit": by then the output has been read to its end.
      this.child.once("close", (code: number | null, signal: string | null) => done({ code, signal }));
      this.child.once("error", (err: Error) => {
        this.output += `\nspawn ${cmd}: ${err.message}`;
        this.stderr += `\nspawn ${cmd}: ${err.message}`;
        done({ code: null, signal: null });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Whether the process still runs (it may not have been reaped yet). */
  get running(): boolean {
    return this.exit === undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` if the process still runs. */
  signal(signal: "SIGTERM" | "SIGINT" | "SIGKILL"): void {
    // process.kill, not child.kill: after child.kill, Deno's node:child_process reports
    // the signal as how the child ended even when the child handled it and exited 0.
    if (this.running) process.kill(this.pid, signal);
  }

  /** Resolves with the exit, or with undefined if the process has not ended within `ms`. */
  waitExit(ms: number): Promise<Exit | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
    return Promise.race([this.exited, late]).finally(() => clearTimeout(timer));
  }

  /**
   * Sends `signal`, then SIGKILL if the process has not ended within `graceMs`, and
   * resolves with how it ended; a process that survives SIGKILL for 5 s is an error.
   * Idempotent.
   */
  async stop(signal: "SIGTERM" | "SIGINT" = "SIGTERM", graceMs = 10_000): Promise<Exit> {
    this.signal(signal);
    return await this.waitExit(graceMs) ?? await this.kill();
  }

  /** Sends SIGKILL if the process still runs and resolves with how it ended (within 5 s). */
  async kill(): Promise<Exit> {
    if (this.running) this.child.kill("SIGKILL");
    const exit = await this.waitExit(5_000);
    if (!exit) throw new Error(`${this.describe()}\nstill running 5 s after SIGKILL`);
    return exit;
  }

  /**
   * Resolves with the `count`-th match of `re` in stdout + stderr once it has been
   * printed; rejects when the process ends first or `ms` pass.
   */
  waitOutput(re: RegExp, count = 1, ms = 10_000): Promise<RegExpMatchArray> {
    const g = new RegExp(re.source, re.flags.includes("g") ? re.flags : re.flags + "g");
    return new Promise((resolve, reject) => {
      const settle = (f: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        f();
      };
      const check = () => {
        const m = [...(this.stdout + this.stderr).matchAll(g)][count - 1];
        if (m) settle(() => resolve(m));
        else if (this.exit) settle(() => reject(new Error(`waiting for ${re} x${count}: ${this.describe()}`)));
      };
      const timer = setTimeout(
        () =>
          settle(() =>
            reject(new Error(`waiting for ${re} x${count}: not printed within ${ms} ms; ${this.describe()}`))
          ),
        ms,
      );
      this.#waiters.add(check);
      check();
    });
  }

  /** Writes a line to the process' stdin (started with `stdin: "pipe"`). */
  send(line: string): void {
    if (!this.child.stdin) {
      throw new Error(`${this.name}: started without stdin ("pipe" it to send ${JSON.stringify(line)})`);
    }
    this.child.stdin.write(line + "\n");
  }

  /** Resident set size in bytes. */
  rss(): number {
    return memory(this.pid).rss;
  }

  /** Open file descriptors. */
  fds(): number {
    return openFds(this.pid);
  }

  /** A description for failure messages: name, PID, how it ended, its output. */
  describe(): string {
    const state = this.exit ? `exited (code ${this.exit.code}, signal ${this.exit.signal})` : "running";
    const out = this.#log === undefined ? this.output.slice(-64 * 1024) || "(none)" : `in ${this.#log}`;
    return `${this.name} (pid ${this.child.pid}) ${state}; output:\n${out}`;
  }
}

/** Stops every process started here that still runs, each with `graceMs` for SIGTERM. */
export async function stopAll(graceMs = 5_000): Promise<void> {
  await Promise.all([...live].map((p) => p.stop("SIGTERM", graceMs)));
}

/**
 * Polls `probe` every `pollMs` until it returns a value other than undefined or false,
 * for at most `timeoutMs`. Fails at once if `proc` ends meanwhile. The timeout error
 * names what was awaited, the last error or value seen, and the process' output.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  opts: { timeoutMs: number; proc?: Proc; pollMs?: number },
): Promise<T> {
  const deadline = performance.now() + opts.timeoutMs;
  let last: unknown = "(never probed)";
  for (;;) {
    if (opts.proc?.exit) throw new Error(`waiting for ${what}: ${opts.proc.describe()}`);
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (e) {
      last = e instanceof Error ? e.message : e;
    }
    if (performance.now() >= deadline) break;
    await sleep(opts.pollMs ?? 100);
  }
  const tail = opts.proc ? `\n${opts.proc.describe()}` : "";
  throw new Error(`waiting for ${what}: gave up after ${opts.timeoutMs} ms; last: ${String(last)}${tail}`);
}

/**
 * Waits until `url` answers 200 (each attempt bounded by 5 s), polling every `pollMs`;
 * fails when `proc` exits or `timeoutMs` pass first. Resolves with the milliseconds since
 * `t0`, the time to readiness when `t0` is taken before the spawn.
 */
export async function waitReady(
  url: string,
  proc: Proc,
  opts: { timeoutMs: number; pollMs?: number; t0?: number },
): Promise<number> {
  const t0 = opts.t0 ?? performance.now();
  await waitFor(`${proc.name} to answer 200 on ${url}`, async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    return true;
  }, { ...opts, proc });
  return performance.now() - t0;
}

/** What a finished command printed. */
export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `cmd` with `stdin` as its input to its end, killing it after `timeoutMs` (then
 * `code` is null and stderr says so).
 */
export async function run(
  cmd: string,
  args: readonly string[],
  stdin = "",
  timeoutMs = 20_000,
  env: Record<string, string> = {},
): Promise<RunResult> {
  const p = new Proc(cmd, cmd, args, { env, stdin: "pipe", keep: Infinity });
  p.child.stdin?.end(stdin);
  const exit = await p.waitExit(timeoutMs) ?? await p.kill();
  const killed = exit.signal === "SIGKILL" ? `\n${cmd}: killed after ${timeoutMs} ms` : "";
  return { code: exit.code, stdout: p.stdout, stderr: p.stderr + killed };
}

/** VmRSS and VmHWM (the peak) of a process in bytes, from /proc/PID/status. */
export function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return { rss: kB(status, "VmRSS"), hwm: kB(status, "VmHWM") };
}

/** RSS split into anonymous memory and file-backed pages (the binary's code), from smaps_rollup. */
export function rssSplit(pid: number): { rss: number; anon: number; file: number } {
  const t = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const rss = kB(t, "Rss"), anon = kB(t, "Anonymous");
  return { rss, anon, file: rss - anon };
}

/** Open file descriptors of a process, counted in /proc/PID/fd. */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** The `key:  N kB` field of a /proc file in bytes; NaN when it is missing. */
function kB(text: string, key: string): number {
  return Number(text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"))?.[1] ?? NaN) * 1024;
}

/** The command that runs a script on the runtime running this test: `bun run` or `deno run`. */
export function runArgv(opts: { allowAll?: boolean } = {}): string[] {
  const g = globalThis as { Bun?: unknown; Deno?: { execPath(): string } };
  // allowAll: for a test program that itself plays the container (reads /proc/self,
  // spawns with the whole environment), not for the exporter a user runs.
  if (g.Deno && opts.allowAll) return [g.Deno.execPath(), "run", "--no-prompt", "--allow-all"];
  // Both are the runtime's own binary, not a wrapper script: a signal sent to the
  // child's PID reaches the program itself.
  if (g.Bun) return [process.execPath, "run"];
  return [g.Deno!.execPath(), "run", ...programDenoPerms()];
}

/**
 * The Makefile's DENO_PERMS, as a user runs the exporter, plus reading what a test
 * program is given: its fixtures (web/testdata) and the files tests write to the
 * temporary directory (web configs, certificates).
 */
function programDenoPerms(): string[] {
  const extra = [join(ROOT, "web", "testdata"), tmpdir()];
  const perms = denoPerms();
  const i = perms.findIndex((p) => p.startsWith("--allow-read="));
  if (i < 0) return [...perms, `--allow-read=${extra.join(",")}`];
  perms[i] = `${perms[i]},${extra.join(",")}`;
  return perms;
}

/**
 * A TypeScript program of this repository run on the runtime that runs the test
 * (`bun run` under `bun test`, `deno run` under `deno test`), with stdin to talk to it.
 */
export class Program extends Proc {
  constructor(script: string, args: string[], env: Record<string, string> = {}) {
    const [cmd, ...pre] = runArgv();
    super(script, cmd, [...pre, script, ...args], { env, stdin: "pipe" });
  }

  /** Resolves with the first match of `re` in stdout + stderr, waiting at most `ms`. */
  waitFor(re: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
    return this.waitOutput(re, 1, ms);
  }

  /** The port of the first "Listening on" log line. */
  async port(): Promise<number> {
    return Number((await this.waitOutput(/msg="Listening on" address=[^\s]*:(\d+)/))[1]);
  }

  /** Writes a line to the program's stdin. */
  writeLine(line: string): void {
    this.send(line);
  }
}

/** Runs a program of this repository to its end (at most `ms`): its exit code and output. */
export function runToExit(
  script: string,
  args: string[],
  env: Record<string, string> = {},
  ms = 20_000,
): Promise<RunResult> {
  const [cmd, ...pre] = runArgv();
  return run(cmd, [...pre, script, ...args], "", ms, env);
}

/**
 * Registers the stand-in for tests that need a system tool that is missing (`go`,
 * `protoc`): skipped with a warning on a machine without it, as a plain `bun test`
 * runs, but a failing test under `make test` (KIT_REQUIRE_TOOLS=1), whose
 * system-deps installed the tool — so CI never passes with those tests not run.
 */
export function missingTool(
  test: { (name: string, fn: () => void): void; skip(name: string, fn: () => void): void },
  name: string,
  why: string,
): void {
  if (process.env.KIT_REQUIRE_TOOLS === "1") {
    test(name, () => {
      throw new Error(`${why}; make test requires it (KIT_REQUIRE_TOOLS=1)`);
    });
    return;
  }
  console.warn(`skipping "${name}": ${why}`);
  test.skip(name, () => {});
}
