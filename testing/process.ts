// Child processes for the tests of web/: a TypeScript program run on the runtime that
// runs the test (`bun run` under `bun test`, `deno run` under `deno test`), with its
// output captured and every wait bounded. Children still alive when the test process
// exits are killed.
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { within } from "./http.ts";

/** The repository root, where every child starts. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));

/** The argv prefix that runs a TypeScript program on the runtime running this test. */
export function runArgv(): string[] {
  const g = globalThis as { Bun?: unknown; Deno?: { execPath(): string }; process?: { execPath: string } };
  // Both are the runtime's own binary, not a wrapper script: a signal sent to the
  // child's PID reaches the program itself.
  if (g.Bun) return [g.process!.execPath, "run"];
  return [g.Deno!.execPath(), "run", "--no-prompt", "--allow-all"];
}

/** The environment without EXPORTER_* variables, plus `extra`. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("EXPORTER_") && v !== undefined) env[k] = v;
  return { ...env, ...extra };
}

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

/** A running program: its output so far, and ways to wait for more and to stop it. */
export class Program {
  stdout = "";
  stderr = "";
  readonly child: ChildProcess;
  /** Resolves with the exit code (or the signal's name) when the program ends. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  #waiters: (() => void)[] = [];

  constructor(script: string, args: string[], env: Record<string, string> = {}) {
    const [cmd, ...pre] = runArgv();
    this.child = spawn(cmd, [...pre, script, ...args], { cwd: ROOT, env: cleanEnv(env), stdio: ["pipe", "pipe", "pipe"] });
    live.add(this.child);
    const notify = () => this.#waiters.forEach((w) => w());
    this.child.stdout!.on("data", (d: Uint8Array) => {
      this.stdout += new TextDecoder().decode(d);
      notify();
    });
    this.child.stderr!.on("data", (d: Uint8Array) => {
      this.stderr += new TextDecoder().decode(d);
      notify();
    });
    this.exited = new Promise((resolve) => {
      // "close", not "exit": by then the output has been read to its end.
      this.child.on("close", (code: number | null, signal: string | null) => {
        live.delete(this.child);
        notify();
        resolve({ code, signal });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves with the first match of `re` in stdout + stderr, waiting at most `ms`. */
  waitFor(re: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
    const found = new Promise<RegExpMatchArray>((resolve, reject) => {
      let exited = false;
      this.exited.then(() => exited = true);
      const check = () => {
        const m = (this.stdout + this.stderr).match(re);
        if (m) {
          this.#waiters = this.#waiters.filter((w) => w !== check);
          resolve(m);
        } else if (exited || this.child.exitCode !== null) {
          this.#waiters = this.#waiters.filter((w) => w !== check);
          reject(new Error(`program exited without printing ${re}; stderr:\n${this.stderr}`));
        }
      };
      this.#waiters.push(check);
      check();
    });
    return within(ms, `waiting for ${re} (stderr so far:\n${this.stderr})`, found);
  }

  /** The port of the first "Listening on" log line. */
  async port(): Promise<number> {
    return Number((await this.waitFor(/msg="Listening on" address=[^\s]*:(\d+)/))[1]);
  }

  /** Writes a line to the program's stdin. */
  writeLine(line: string): void {
    this.child.stdin!.write(line + "\n");
  }

  /** Sends `signal` to the program, if it still runs. */
  signal(signal: "SIGTERM" | "SIGINT"): void {
    // process.kill, not child.kill: after child.kill, Deno's node:child_process reports
    // the signal as how the child ended even when the child handled it and exited 0.
    if (this.child.exitCode === null && this.child.signalCode === null) process.kill(this.pid, signal);
  }

  /** Sends `signal` and waits at most `ms` for the exit. */
  async stop(signal: "SIGTERM" | "SIGINT" = "SIGTERM", ms = 15_000): Promise<{ code: number | null; signal: string | null }> {
    this.signal(signal);
    return await within(ms, `program ${this.pid} exiting after ${signal}`, this.exited);
  }

  /** Kills the program if it still runs; for afterAll. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGKILL");
    await within(5000, `program ${this.pid} exiting after SIGKILL`, this.exited);
  }
}

/** Runs a program to its end (at most `ms`) and returns its exit code and output. */
export async function runToExit(
  script: string,
  args: string[],
  env: Record<string, string> = {},
  ms = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = new Program(script, args, env);
  p.child.stdin!.end();
  try {
    const { code } = await within(ms, `${script} ${args.join(" ")}`, p.exited);
    return { code, stdout: p.stdout, stderr: p.stderr };
  } finally {
    await p.kill();
  }
}
