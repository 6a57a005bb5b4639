/**
 * Anything that takes observations, as Go's `prometheus.Observer`: a Histogram, a
 * Summary, or a child of their Vecs.
 */
export interface Observer {
  /** Takes one observation. */
  observe(v: number): void;
}

/** An Observer that can also keep an exemplar, as Go's `prometheus.ExemplarObserver`. */
export interface ExemplarObserver extends Observer {
  /** Takes one observation and keeps it as an exemplar with `labels`. */
  observeWithExemplar(v: number, labels: Readonly<Record<string, string>>): void;
}

/**
 * Times something and hands the duration in seconds to an Observer (or a function,
 * Go's `ObserverFunc`), as Go's `prometheus.Timer`.
 *
 * @example
 * ```ts
 * const timer = newTimer(latency);
 * timer.observeDuration();
 * ```
 */
export class Timer {
  readonly #observer: Observer | ((seconds: number) => void);
  readonly #start: number = performance.now();

  /** A timer started now; use {@linkcode newTimer}. */
  constructor(observer: Observer | ((seconds: number) => void)) {
    this.#observer = observer;
  }

  /**
   * Observes the seconds since the timer was made and returns them, as Go's
   * `ObserveDuration`. It may be called more than once; each call observes the time
   * since the start.
   */
  observeDuration(): number {
    const seconds = (performance.now() - this.#start) / 1000;
    const o = this.#observer;
    if (typeof o === "function") o(seconds);
    else o.observe(seconds);
    return seconds;
  }
}

/**
 * Starts a timer for `observer`, as Go's `prometheus.NewTimer`: call
 * `observeDuration()` when the work is done. A function as observer receives the
 * seconds, as Go's `ObserverFunc` (to set a gauge, say).
 *
 * @example
 * ```ts
 * const timer = newTimer(requestDuration.withLabelValues("GET"));
 * try {
 *   await handle();
 * } finally {
 *   timer.observeDuration();
 * }
 * const t = newTimer((s) => lastRunSeconds.set(s));
 * ```
 */
export function newTimer(observer: Observer | ((seconds: number) => void)): Timer {
  return new Timer(observer);
}
