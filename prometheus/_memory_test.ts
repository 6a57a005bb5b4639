import { expect, test } from "bun:test";
import { memoryMaxAgeMs, memoryUsage } from "./_memory.ts";

test("a memoryUsage reading is served until it is memoryMaxAgeMs old, then read again", () => {
  const t = 1e12; // later than any earlier reading of this module, so the first call reads
  const first = memoryUsage(t);
  expect(first.heapUsed).toBeGreaterThan(0);
  expect(memoryUsage(t + memoryMaxAgeMs - 1)).toBe(first);
  const later = memoryUsage(t + memoryMaxAgeMs);
  expect(later).not.toBe(first);
  expect(memoryUsage(t + memoryMaxAgeMs + 1)).toBe(later);
});

test("a clock that went backwards reads again rather than serving a reading from the future", () => {
  const t = 2e12;
  const first = memoryUsage(t);
  expect(memoryUsage(t - 1)).not.toBe(first);
});
