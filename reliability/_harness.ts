// Plumbing of the reliability suite: the exporter and the scenario fixture started on
// either runtime as users run them (the compiled binary; `deno run` with the
// Makefile's DENO_PERMS), their memory and file descriptors read from /proc, and the
// figures every test records for RELIABILITY.md. Every wait has a deadline and every
// process started here is killed when the suite ends.
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DENO, denoPerms, EXPORTER, freePort, get, ROOT, waitFor } from "../e2e/_harness.ts";

export { DENO, EXPORTER, freePort, get, ROOT, waitFor };

/** Long mode: the 60 s load and the slow-client timeouts; set by `make test-reliability-long`. */
export const LONG: boolean = process.env.RELIABILITY_LONG === "1";
/** Where the scratch files and the figures of a run go. */
export const SCRATCH: string = join(ROOT, ".tmp/reliability");
/** The fixture compiled by `make test-reliability` with the exporter's build flags. */
export const FIXTURE_BIN: string = join(SCRATCH, "fixture");
const FIXTURE_SRC = "reliability/testdata/fixture_exporter.ts";
mkdirSync(SCRATCH, { recursive: true });

/** A runtime and how to start the exporter and the fixture on it. */
export interface Runtime {
  readonly name: "bun" | "deno";
  /** How it is started, for the RELIABILITY.md table. */
  readonly how: string;
  exporter(flags: string[]): string[];
  fixture(scenario: string, flags: string[]): string[];
}

export const RUNTIMES: readonly Runtime[] = [
  {
    name: "bun",
    how: "compiled binary",
    exporter: (flags) => [EXPORTER, ...flags],
    fixture: (scenario, flags) => [FIXTURE_BIN, scenario, ...flags],
  },
  {
    name: "deno",
    how: "deno run $(DENO_PERMS)",
    exporter: (flags) => [DENO, "run", ...denoPerms(), "main.ts", ...flags],
    // --v8-flags is no permission: it lets the fixture's "gc" command collect garbage.
    fixture: (scenario, flags) => [DENO, "run", ...denoPerms(), "--v8-flags=--expose-gc", FIXTURE_SRC, scenario, ...flags],
  },
];

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

/** A running exporter: its address, output, memory and descriptors. */
export class Server {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  #waiters = new Set<() => void>();

  private constructor(readonly name: string, argv: string[], readonly port: number) {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("EXPORTER_") && v !== undefined) env[k] = v;
    this.child = spawn(argv[0], argv.slice(1), { cwd: ROOT, env, stdio: ["pipe", "pipe", "pipe"] });
    live.add(this.child);
    const notify = () => this.#waiters.forEach((w) => w());
    this.child.stdout!.on("data", (d: Uint8Array) => {
      this.stdout = (this.stdout + new TextDecoder().decode(d)).slice(-1 << 20);
      notify();
    });
    this.child.stderr!.on("data", (d: Uint8Array) => {
      this.stderr = (this.stderr + new TextDecoder().decode(d)).slice(-1 << 20);
      notify();
    });
    this.child.stdin!.on("error", () => {});
    this.exited = new Promise((resolve) => {
      this.child.on("close", (code, signal) => {
        live.delete(this.child);
        notify();
        resolve({ code, signal });
      });
    });
  }

  /** Starts `argv(listenFlag)` on a free port and waits (20 s at most) for /-/ready. */
  static async start(name: string, argv: (listenFlag: string) => string[]): Promise<Server> {
    const port = await freePort();
    const s = new Server(name, argv(`--web.listen-address=127.0.0.1:${port}`), port);
    await waitFor(`${name} ready on port ${port}`, async () => {
      if (s.child.exitCode !== null) throw new Error(`${name} exited: ${s.stderr}`);
      const res = await get(`${s.url}/-/ready`);
      await res.body?.cancel();
      return res.status === 200;
    }, { timeoutMs: 20_000 });
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get pid(): number {
    return this.child.pid!;
  }

  /** Resident set size in bytes, from /proc/PID/status. */
  rss(): number {
    const m = readFileSync(`/proc/${this.pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB/m);
    return m ? Number(m[1]) * 1024 : NaN;
  }

  /** Open file descriptors, counted in /proc/PID/fd. */
  fds(): number {
    return readdirSync(`/proc/${this.pid}/fd`).length;
  }

  /** Waits (at most `ms`) until stdout + stderr matches `re` `count` times. */
  waitOutput(re: RegExp, count = 1, ms = 10_000): Promise<void> {
    const g = new RegExp(re.source, re.flags.includes("g") ? re.flags : re.flags + "g");
    return new Promise((resolve, reject) => {
      const check = () => {
        const n = (this.stdout + this.stderr).match(g)?.length ?? 0;
        if (n >= count) done(resolve);
        else if (this.child.exitCode !== null) done(() => reject(new Error(`${this.name} exited waiting for ${re}:\n${this.stderr}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`${this.name}: ${re} x${count} not seen within ${ms} ms`))), ms);
      const done = (f: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        f();
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Writes a line to the fixture's stdin. */
  send(line: string): void {
    this.child.stdin!.write(line + "\n");
  }

  /** JS heap in use after the latest "gc" command, as the fixture reported it. */
  heapAfterGC = NaN;

  /** Asks the fixture to collect garbage; resolves with the RSS after it. */
  async rssAfterGC(): Promise<number> {
    const before = (this.stdout.match(/^gc done/gm) ?? []).length;
    this.send("gc");
    await this.waitOutput(/^gc done/m, before + 1);
    this.heapAfterGC = Number([...this.stdout.matchAll(/^gc done heap=(\d+)/gm)].at(-1)?.[1]);
    return this.rss();
  }

  /** SIGTERM, then SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    const t = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await this.exited;
    clearTimeout(t);
  }
}

/** Starts the exporter of main.ts on `rt` with `flags`. */
export function startExporter(rt: Runtime, flags: string[] = []): Promise<Server> {
  return Server.start(`exporter on ${rt.name}`, (listen) => rt.exporter([listen, ...flags]));
}

/** Starts the fixture's `scenario` on `rt` with `flags`. */
export function startFixture(rt: Runtime, scenario: string, flags: string[] = []): Promise<Server> {
  return Server.start(`fixture ${scenario} on ${rt.name}`, (listen) => rt.fixture(scenario, [listen, ...flags]));
}

/** One measured figure of one test on one runtime ("any" when it does not depend on one). */
export interface Figure {
  readonly area: string;
  readonly test: string;
  readonly runtime: string;
  readonly figure: string;
  /** Whether the property held; a figure that did not hold says why. */
  readonly held: boolean;
  readonly command: string;
}

/** The file the figures of this run go to, one JSON object a line. */
export const FIGURES: string = join(SCRATCH, LONG ? "figures-long.jsonl" : "figures-fast.jsonl");

/** Records a figure for the report; also prints it, so a run's log holds every figure. */
export function record(f: Figure): void {
  appendFileSync(FIGURES, JSON.stringify({ ...f, at: new Date().toISOString(), long: LONG }) + "\n");
  console.log(`figure: [${f.runtime}] ${f.test}: ${f.figure}${f.held ? "" : "  (DID NOT HOLD)"}`);
}

export const MiB = 1024 * 1024;
/** Bytes as MiB with one decimal. */
export const mib = (b: number): string => `${(b / MiB).toFixed(1)} MiB`;
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The command that reproduces a suite: make's target, narrowed to one file. */
export function command(file: string): string {
  return `make test-reliability${LONG ? "-long" : ""} RELIABILITY_SUITES=reliability/${file}`;
}
