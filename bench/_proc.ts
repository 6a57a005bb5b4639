// Child processes for the benchmarks, on the harness of testing/process.ts: every
// server is started through `start`, its output goes to .bench/logs/<name>.log, and
// `stopAll` (also on SIGINT/SIGTERM and by the watchdog) kills whatever still runs, so a
// run never leaves a server behind.
import { mkdirSync, readFileSync } from "node:fs";
import { memory, Proc, run as runToEnd, stopAll as stopProcs, waitReady } from "../testing/process.ts";

export { denoPerms, freePort, memory, rssSplit, sleep } from "../testing/process.ts";

/** A server or tool started by the harness. */
export type Child = Proc;

export const scratch = ".bench";
export const logDir = `${scratch}/logs`;
mkdirSync(logDir, { recursive: true });

/** Starts a long-running process; its output goes to .bench/logs/<name>.log. */
export function start(name: string, cmd: string[], env: Record<string, string> = {}): Child {
  return new Proc(name, cmd[0], cmd.slice(1), { env, log: `${logDir}/${name}.log` });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stop(child: Child, graceMs = 3000): Promise<void> {
  await child.stop("SIGTERM", graceMs);
}

/** The largest VmRSS of `pid` sampled every 50 ms until `stop()`, which returns it (bytes). */
export function samplePeakRss(pid: number): { stop(): number } {
  let peak = 0;
  const sample = () => {
    try {
      peak = Math.max(peak, memory(pid).rss);
    } catch { /* exited */ }
  };
  const timer = setInterval(sample, 50);
  return {
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}

/** Kills every process the harness started that is still running. */
export function stopAll(): Promise<void> {
  return stopProcs(1000);
}

/** Runs a command to completion within `timeoutMs`; throws on a non-zero exit. */
export async function run(
  cmd: string[],
  timeoutMs: number,
  opts: { env?: Record<string, string>; allowFail?: boolean } = {},
): Promise<{ stdout: string; stderr: string; code: number }> {
  const r = await runToEnd(cmd[0], cmd.slice(1), "", timeoutMs, opts.env);
  if (r.code === null) throw new Error(`${cmd.join(" ")}: no exit of its own\n${r.stderr.slice(-2000)}`);
  if (r.code !== 0 && !opts.allowFail) throw new Error(`${cmd.join(" ")}: exit ${r.code}\n${r.stderr.slice(-2000)}`);
  return { stdout: r.stdout, stderr: r.stderr, code: r.code };
}

/**
 * Polls `url` until it answers 200, as tightly as a 1 ms pause allows, and returns the
 * milliseconds since `t0`. Throws when `child` exits or `timeoutMs` passes first.
 */
export function waitFor200(url: string, child: Child, timeoutMs: number, t0 = performance.now()): Promise<number> {
  return waitReady(url, child, { timeoutMs, pollMs: 1, t0 });
}

/** Page faults so far (minflt, majflt) and CPU seconds (all threads), from /proc/PID/stat. */
export function procStat(pid: number): { minflt: number; majflt: number; cpu: number } {
  const s = readFileSync(`/proc/${pid}/stat`, "latin1");
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  // proc(5): minflt is field 10, majflt 12, utime 14, stime 15 (from 1; f[0] is field 3).
  return { minflt: Number(f[7]), majflt: Number(f[9]), cpu: (Number(f[11]) + Number(f[12])) / 100 };
}
