/**
 * Lets the event loop run pending I/O and timers before going on. setImmediate costs
 * ~10–20 µs a turn on Bun and Deno; setTimeout(0), the fallback, 1–2 ms.
 */
export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => void };
  return new Promise((resolve) => (g.setImmediate ? g.setImmediate(resolve) : setTimeout(resolve, 0)));
}

/**
 * How many series the registry handles between two event-loop turns when a gather is
 * large: a few milliseconds of work, so that a health check or another request waits
 * about that long rather than for the whole gather.
 */
export const seriesPerTurn = 20_000;

/**
 * How long memory kept for reuse by the next large scrape (a collector's columns, an
 * encoding buffer) is kept without one: scraped back to back, a 100k-series exposition
 * reuses it and spares ~2,000 page faults a scrape; after a one-off large scrape, it is
 * handed back this long after.
 */
export const spareTtlMs = 3_000;

/**
 * Calls `drop` once `spareTtlMs` have passed since the latest call of the returned
 * function. A call costs a clock read: the timer is set once and, when it fires early
 * (there were calls since), set again for the rest. It does not keep the process alive.
 */
export function expiring(drop: () => void): () => void {
  let last = 0;
  let armed = false;
  const arm = (ms: number) => {
    armed = true;
    const timer = setTimeout(fire, ms);
    // unref exists on Bun's and Deno's (node-compatible) timer objects.
    (timer as { unref?: () => void }).unref?.();
  };
  const fire = () => {
    armed = false;
    const left = last + spareTtlMs - performance.now();
    if (left > 0) arm(left);
    else drop();
  };
  return () => {
    last = performance.now();
    if (!armed) arm(spareTtlMs);
  };
}
