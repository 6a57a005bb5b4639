// Event-loop turns during long work: a gather or an encoding of 100k series takes tens
// of milliseconds, and a health check or another request should wait a few, not all.

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

/** Work an encoder does between two event-loop turns while encoding a large exposition. */
export const sliceMs = 8;
