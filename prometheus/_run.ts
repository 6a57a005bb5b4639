// Running collectors for a gather: synchronous ones at once, asynchronous ones at most
// once at a time, each within the gather's deadline.
import type { Collector } from "./collector.ts";
import { GatherError } from "./_family.ts";
import { Capture } from "./_capture.ts";
import type { SparePool } from "./reuse.ts";

/** What running a collector needs to know of its registration. */
export interface Runnable {
  readonly name: string;
  readonly collector: Collector;
}

/** The signal of a gather without a deadline. */
export const neverAborted = new AbortController().signal;

export interface Outcome {
  /** What the collector sent; undefined when it failed. */
  capture: Capture | undefined;
  error: GatherError | undefined;
  durationSeconds: number;
}

export type Run =
  | { capture: Capture; error: undefined; failed: false; durationSeconds: number }
  | { capture: undefined; error: unknown; failed: true; durationSeconds: number };

/**
 * Runs one collector, buffering what it sends. A synchronous collector is done when
 * `collect` returns: no promise, no listener. If an asynchronous collector is already
 * running for another gather, this gather joins that run rather than starting a
 * second one. A run that has not finished when `signal` aborts is reported as failed
 * here, and what it sends afterwards never reaches this gather.
 */
export function runCollector(
  entry: Runnable,
  signal: AbortSignal,
  inflight: Map<Runnable, Promise<Run>>,
  spares: SparePool<Runnable, Capture>,
): Outcome | Promise<Outcome> {
  if (signal.aborted) return failed(entry, signal.reason, "did not run", 0);
  let run = inflight.get(entry);
  if (!run) {
    const r = startRun(entry.collector, signal, spares.take(entry));
    if (!(r instanceof Promise)) return outcome(entry, r);
    run = r;
    inflight.set(entry, run);
    const clear = () => inflight.delete(entry);
    run.then(clear, clear);
  }
  return awaitRun(entry, run, signal);
}

async function awaitRun(entry: Runnable, run: Promise<Run>, signal: AbortSignal): Promise<Outcome> {
  const start = performance.now();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const r = await Promise.race([run, aborted]);
    if (r === undefined) return failed(entry, signal.reason, "missed the deadline", (performance.now() - start) / 1000);
    return outcome(entry, r);
  } finally {
    signal.removeEventListener("abort", onAbort!);
  }
}

function outcome(entry: Runnable, r: Run): Outcome {
  if (r.failed) return failed(entry, r.error, "failed", r.durationSeconds);
  // One more gather reads the capture from now on: counted here, as the run's result is
  // handed out, so that no gather can release it for reuse before all have it.
  if (r.capture) r.capture.users++;
  // A run that did not fail is its own outcome (its error is undefined): one object
  // fewer per collector, and no gather changes either.
  return r;
}

function failed(entry: Runnable, e: unknown, what: string, durationSeconds: number): Outcome {
  const message = `collector ${entry.name} ${what}: ${errorMessage(e)}`;
  return { capture: undefined, durationSeconds, error: new GatherError(entry.name, message, undefined, { cause: e }) };
}

/**
 * Calls `collect`; a Promise only when `collect` returned one. No closure is made for
 * a synchronous collector, the usual kind: a default scrape runs four of them.
 */
function startRun(collector: Collector, signal: AbortSignal, spare: Capture | undefined): Run | Promise<Run> {
  const start = performance.now();
  const capture = spare ?? new Capture();
  capture.reset();
  let result: void | Promise<void>;
  try {
    result = collector.collect(capture.send, signal);
  } catch (e) {
    return failedRun(e, start);
  }
  if (!isThenable(result)) return doneRun(capture, start);
  return Promise.resolve(result).then(() => doneRun(capture, start), (e) => failedRun(e, start));
}

function doneRun(capture: Capture, start: number): Run {
  capture.seal();
  return { capture, error: undefined, failed: false, durationSeconds: (performance.now() - start) / 1000 };
}

function failedRun(e: unknown, start: number): Run & { failed: true } {
  return { capture: undefined, error: e, failed: true, durationSeconds: (performance.now() - start) / 1000 };
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof x === "object" && x !== null && typeof (x as { then?: unknown }).then === "function";
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
