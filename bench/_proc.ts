// Child processes for the benchmarks: every server is started through `start`, tracked,
// and killed by `stopAll` (also on SIGINT/SIGTERM and by the watchdog), so a run never
// leaves a server behind.
import { mkdirSync, readFileSync } from "node:fs";

/** A server or tool started by the harness. */
export interface Child {
  readonly name: string;
  readonly proc: Bun.Subprocess;
  readonly pid: number;
}

const children = new Set<Child>();
export const scratch = ".bench";
export const logDir = `${scratch}/logs`;
mkdirSync(logDir, { recursive: true });

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Starts a long-running process; its output goes to .bench/logs/<name>.log. */
export function start(name: string, cmd: string[], env: Record<string, string> = {}): Child {
  const log = Bun.file(`${logDir}/${name}.log`);
  const proc = Bun.spawn(cmd, { stdout: log, stderr: log, stdin: "ignore", env: { ...process.env, ...env } });
  const child = { name, proc, pid: proc.pid };
  children.add(child);
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stop(child: Child, graceMs = 3000): Promise<void> {
  if (child.proc.exitCode === null && child.proc.signalCode === null) {
    child.proc.kill("SIGTERM");
    const gone = await Promise.race([child.proc.exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!gone) {
      child.proc.kill("SIGKILL");
      await child.proc.exited;
    }
  }
  children.delete(child);
}

/** Kills every process the harness started that is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stop(c, 1000)));
}

/** Runs a command to completion within `timeoutMs`; throws on a non-zero exit. */
export async function run(
  cmd: string[],
  timeoutMs: number,
  opts: { env?: Record<string, string>; allowFail?: boolean } = {},
): Promise<{ stdout: string; stderr: string; code: number }> {
  const proc = Bun.spawn(cmd, {
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
    env: { ...process.env, ...opts.env },
  });
  const child = { name: cmd[0], proc, pid: proc.pid };
  children.add(child);
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  try {
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    if (proc.signalCode === "SIGKILL") throw new Error(`${cmd.join(" ")}: killed after ${timeoutMs} ms`);
    if (code !== 0 && !opts.allowFail) throw new Error(`${cmd.join(" ")}: exit ${code}\n${stderr.slice(-2000)}`);
    return { stdout, stderr, code };
  } finally {
    clearTimeout(timer);
    children.delete(child);
  }
}

/** A port that was free a moment ago on 127.0.0.1 (the kernel picks it). */
export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

/** VmRSS and VmHWM of a process in bytes, from /proc/PID/status. */
export function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(status.match(new RegExp(`^${k}:\\s+(\\d+) kB`, "m"))?.[1] ?? NaN) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

/** RSS split into anonymous memory and file-backed pages (code of the binary), from smaps_rollup. */
export function rssSplit(pid: number): { rss: number; anon: number; file: number } {
  const t = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (k: string) => Number(t.match(new RegExp(`^${k}:\\s+(\\d+) kB`, "m"))?.[1] ?? NaN) * 1024;
  const rss = kb("Rss"), anon = kb("Anonymous");
  return { rss, anon, file: rss - anon };
}

/**
 * Polls `url` until it answers 200, as tightly as a 1 ms pause allows, and returns the
 * milliseconds since `t0`. Throws when `child` exits or `timeoutMs` passes first.
 */
export async function waitFor200(url: string, child: Child, timeoutMs: number, t0 = performance.now()): Promise<number> {
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(Math.max(100, timeoutMs)) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - t0;
    } catch { /* not listening yet */ }
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) {
      throw new Error(`${child.name} exited (${child.proc.exitCode ?? child.proc.signalCode}); see ${logDir}/${child.name}.log`);
    }
    if (performance.now() - t0 > timeoutMs) throw new Error(`${child.name}: no 200 from ${url} within ${timeoutMs} ms`);
    await sleep(1);
  }
}
