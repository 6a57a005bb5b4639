import process from "node:process";

type MemoryUsage = ReturnType<typeof process.memoryUsage>;

/**
 * How long one process.memoryUsage() reading is served. A call costs ~10 µs on Bun and
 * Deno, a twelfth of a whole default scrape's CPU; the heap and external sizes it gives
 * are gauges that a scrape every few seconds samples anyway, so a value up to a second
 * old says the same. The README lists the values that may be this old.
 */
export const memoryMaxAgeMs = 1_000;

let current: MemoryUsage | undefined;
let readAt = -Infinity;

/**
 * process.memoryUsage(), read again only when the last reading is older than
 * {@linkcode memoryMaxAgeMs} (or `now` went backwards). `now` is for tests.
 */
export function memoryUsage(now = performance.now()): MemoryUsage {
  if (current === undefined || now - readAt >= memoryMaxAgeMs || now < readAt) {
    current = process.memoryUsage();
    readAt = now;
  }
  return current;
}
