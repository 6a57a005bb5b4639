// exporter-toolkit's `rate_limit`: one token bucket for the whole server, as its
// handler builds with golang.org/x/time/rate (`rate.NewLimiter(rate.Every(interval),
// burst)` and `Allow()` on every request, before authentication).

/**
 * A token bucket holding at most `burst` tokens, full at the start, gaining one every
 * `intervalMs`. Each allowed request takes one; a request finding none is refused.
 * Not a queue: a refused request waits for nothing. Safe to call from concurrent
 * requests (JavaScript runs them one at a time between awaits).
 *
 * @example
 * ```ts
 * const limit = new TokenBucket(1_000, 5); // 5 at once, then 1 per second
 * if (!limit.allow()) return new Response("Too Many Requests\n", { status: 429 });
 * ```
 */
export class TokenBucket {
  #tokens: number;
  #at: number;

  constructor(
    readonly intervalMs: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(intervalMs > 0)) throw new RangeError(`rate_limit interval must be above 0, got ${intervalMs} ms`);
    if (!Number.isInteger(burst) || burst < 1) {
      throw new RangeError(`rate_limit burst must be a whole number ≥ 1, got ${burst}`);
    }
    this.#tokens = burst;
    this.#at = now();
  }

  #refill(): void {
    const t = this.now();
    this.#tokens = Math.min(this.burst, this.#tokens + (t - this.#at) / this.intervalMs);
    this.#at = t;
  }

  /** Takes a token if there is one; false when the request should be refused. */
  allow(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Whole seconds until the next token, at least 1: the `Retry-After` of a refusal. */
  retryAfterSeconds(): number {
    this.#refill();
    return Math.max(1, Math.ceil(((1 - this.#tokens) * this.intervalMs) / 1000));
  }
}
