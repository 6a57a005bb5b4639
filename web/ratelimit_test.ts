// exporter-toolkit's rate_limit: a token bucket as golang.org/x/time/rate's Allow().
import { describe, expect, test } from "bun:test";
import { TokenBucket } from "./ratelimit.ts";

describe("TokenBucket", () => {
  test("full at the start: burst requests pass, the next is refused until a token comes back", () => {
    let now = 0;
    const b = new TokenBucket(1_000, 3, () => now);
    expect([b.allow(), b.allow(), b.allow(), b.allow()]).toEqual([true, true, true, false]);
    expect(b.retryAfterSeconds()).toBe(1);
    now = 999;
    expect(b.allow()).toBe(false);
    now = 1_000;
    expect([b.allow(), b.allow()]).toEqual([true, false]);
  });

  test("never holds more than burst, however long it was idle", () => {
    let now = 0;
    const b = new TokenBucket(100, 2, () => now);
    now = 1_000_000;
    expect([b.allow(), b.allow(), b.allow()]).toEqual([true, true, false]);
  });

  test("Retry-After rounds the wait up to whole seconds", () => {
    const now = 0;
    const b = new TokenBucket(2_500, 1, () => now);
    expect(b.allow()).toBe(true);
    expect(b.retryAfterSeconds()).toBe(3);
  });

  test("a burst below 1 or an interval of 0 is refused, naming the value", () => {
    expect(() => new TokenBucket(1_000, 0)).toThrow(/burst must be a whole number ≥ 1, got 0/);
    expect(() => new TokenBucket(0, 1)).toThrow(/interval must be above 0, got 0 ms/);
  });
});
