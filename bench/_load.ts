// Load generators: wrk for throughput and latency, curl for timed sequential scrapes,
// fetch for counted scrape loops and the health poller. Every one is bounded in time.
import { run, sleep } from "./_proc.ts";

/** What one wrk run measured. */
export interface WrkResult {
  readonly requestsPerSec: number;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Socket errors plus non-2xx/3xx answers; a run with errors is not a valid figure. */
  readonly errors: number;
}

const unitMs: Record<string, number> = { us: 1e-3, ms: 1, s: 1e3, m: 60e3 };

function toMs(s: string | undefined): number {
  const m = s?.match(/^([\d.]+)(us|ms|s|m)$/);
  return m ? Number(m[1]) * unitMs[m[2]] : NaN;
}

/** Runs `wrk --latency` and parses its report. */
export async function wrk(
  url: string,
  o: { threads: number; connections: number; seconds: number; timeoutSeconds?: number },
): Promise<WrkResult> {
  const args = [
    "wrk",
    `-t${o.threads}`,
    `-c${o.connections}`,
    `-d${o.seconds}s`,
    `--timeout`,
    `${o.timeoutSeconds ?? 5}s`,
    "--latency",
    url,
  ];
  const { stdout } = await run(args, (o.seconds + (o.timeoutSeconds ?? 5) + 10) * 1000);
  const num = (re: RegExp) => Number(stdout.match(re)?.[1] ?? 0);
  const socket = stdout.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const errors = (socket ? socket.slice(1).reduce((a, x) => a + Number(x), 0) : 0) +
    num(/Non-2xx or 3xx responses: (\d+)/);
  return {
    requestsPerSec: num(/Requests\/sec:\s+([\d.]+)/),
    requests: num(/(\d+) requests in/),
    p50Ms: toMs(stdout.match(/^\s+50%\s+(\S+)/m)?.[1]),
    p99Ms: toMs(stdout.match(/^\s+99%\s+(\S+)/m)?.[1]),
    maxMs: toMs(stdout.match(/^\s+Latency\s+\S+\s+\S+\s+(\S+)/m)?.[1]),
    errors,
  };
}

/** One timed transfer of a sequential curl run. */
export interface Transfer {
  readonly ms: number;
  readonly code: number;
  readonly bytes: number;
  /** The response's Content-Type, to check what was negotiated. */
  readonly contentType: string;
}

/**
 * Scrapes `url` `count` times in sequence over one kept-alive connection with one curl
 * process, and returns each transfer's total time. With `gzip`, curl asks for gzip and
 * keeps the compressed body as it is, so no decompression is timed.
 */
export async function curlSequence(
  url: string,
  count: number,
  o: { gzip: boolean; maxSeconds: number; accept?: string },
): Promise<Transfer[]> {
  const args = [
    "curl",
    "-sS",
    "--max-time",
    String(o.maxSeconds),
    "-w",
    "%{time_total} %{http_code} %{size_download} %{content_type}\\n",
  ];
  if (o.gzip) args.push("-H", "Accept-Encoding: gzip");
  if (o.accept) args.push("-H", `Accept: ${o.accept}`);
  for (let i = 0; i < count; i++) args.push("-o", "/dev/null", url);
  const { stdout } = await run(args, (count * o.maxSeconds + 10) * 1000);
  return stdout.trim().split("\n").map((line) => {
    const [t, code, bytes] = line.split(" ", 3).map(Number);
    return { ms: t * 1000, code, bytes, contentType: line.split(" ").slice(3).join(" ") };
  });
}

/** Scrapes `url` `total` times with `concurrency` fetch loops; throws on a non-200. */
export async function fetchLoop(url: string, total: number, concurrency: number, timeoutMs: number): Promise<void> {
  let left = total;
  const deadline = performance.now() + timeoutMs;
  const worker = async () => {
    while (left > 0) {
      left--;
      if (performance.now() > deadline) throw new Error(`${total} scrapes of ${url} did not finish in ${timeoutMs} ms`);
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${url}: status ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Latencies of the health poller: every answer counts, whatever its status. */
export interface PollResult {
  readonly polls: number;
  readonly worstMs: number;
  readonly p99Ms: number;
}

/**
 * Requests `url` every `intervalMs` until `until` settles, timing each answer. A stalled
 * event loop on the server shows as one long answer.
 */
export async function pollLatency(url: string, until: Promise<unknown>, intervalMs: number): Promise<PollResult> {
  let done = false;
  until.then(() => (done = true), () => (done = true));
  const times: number[] = [];
  while (!done) {
    const t0 = performance.now();
    const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    await res.arrayBuffer();
    times.push(performance.now() - t0);
    await sleep(intervalMs);
  }
  times.sort((a, b) => a - b);
  return {
    polls: times.length,
    worstMs: times.at(-1) ?? NaN,
    p99Ms: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))] ?? NaN,
  };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
