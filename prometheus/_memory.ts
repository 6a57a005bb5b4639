import process from "node:process";

type MemoryUsage = ReturnType<typeof process.memoryUsage>;
let current: MemoryUsage | undefined;

/**
 * process.memoryUsage(), read at most once per turn of the event loop. The process
 * and runtime collectors both need it in the same gather, and on Deno each call costs
 * ~13 µs; a microtask forgets the reading once the synchronous collectors are done.
 */
export function memoryUsage(): MemoryUsage {
  if (current === undefined) {
    current = process.memoryUsage();
    queueMicrotask(() => current = undefined);
  }
  return current;
}
