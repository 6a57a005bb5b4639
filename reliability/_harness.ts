// Plumbing of the reliability suite: the exporter and the scenario fixture started on
// either runtime as users run them (the compiled binary; `deno run` with the
// Makefile's DENO_PERMS), their memory and file descriptors read from /proc, and the
// figures every test records for RELIABILITY.md. Processes are testing/process.ts's:
// every wait has a deadline and every process started here is killed when the suite
// ends.
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { get } from "../testing/http.ts";
import {
  builtExporter,
  DENO,
  denoPerms,
  EXPORTER,
  freePort,
  Proc,
  ROOT,
  sleep,
  waitFor,
  waitReady,
} from "../testing/process.ts";

export { DENO, EXPORTER, freePort, get, ROOT, sleep, waitFor };

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
    exporter: (flags) => [builtExporter(), ...flags],
    fixture: (scenario, flags) => [FIXTURE_BIN, scenario, ...flags],
  },
  {
    name: "deno",
    how: "deno run $(DENO_PERMS)",
    exporter: (flags) => [DENO, "run", ...denoPerms(), "main.ts", ...flags],
    // --v8-flags is no permission: it lets the fixture's "gc" command collect garbage.
    fixture: (
      scenario,
      flags,
    ) => [DENO, "run", ...denoPerms(), "--v8-flags=--expose-gc", FIXTURE_SRC, scenario, ...flags],
  },
];

/** A running exporter or fixture: its address, output, memory and descriptors. */
export class Server extends Proc {
  private constructor(name: string, argv: string[], readonly port: number) {
    super(name, argv[0], argv.slice(1), { stdin: "pipe" });
  }

  /** Starts `argv(listenFlag)` on a free port and waits (20 s at most) for /-/ready. */
  static async start(name: string, argv: (listenFlag: string) => string[]): Promise<Server> {
    const port = freePort();
    const s = new Server(name, argv(`--web.listen-address=127.0.0.1:${port}`), port);
    await waitReady(`${s.url}/-/ready`, s, { timeoutMs: 20_000 });
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
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

/** The command that reproduces a suite: make's target, narrowed to one file. */
export function command(file: string): string {
  return `make test-reliability${LONG ? "-long" : ""} RELIABILITY_SUITES=reliability/${file}`;
}
