import { type Collector, markMetricWithState } from "./collector.ts";
import type { Desc, Labels } from "./desc.ts";
import { type CounterOpts, descFromOpts } from "./opts.ts";
import { CounterValue, type Exemplar, type Metric, mustNewConstMetric } from "./value.ts";
import { collectorNameOf, newExemplar, ValueSample } from "./_sample.ts";
import { MetricVec } from "./vec.ts";

const noLabels: readonly string[] = Object.freeze([]);

/**
 * A value that only goes up, as Go's `prometheus.Counter`: requests served, tasks
 * completed, errors. It is a Collector: register it, then `inc()` or `add(v)`. It
 * remembers when it was created (or reset), exposed as `_created` in OpenMetrics.
 *
 * @example
 * ```ts
 * const jobs = newCounter({ name: "jobs_total", help: "Jobs run." });
 * jobs.inc();
 * jobs.addWithExemplar(3, { trace_id: "4bf92f3577b34da6" });
 * ```
 */
export class Counter implements Collector {
  /** The counter's descriptor. */
  readonly desc: Desc;
  /** Its variable label values (empty unless it is a child of a {@linkcode CounterVec}). */
  readonly labelValues: readonly string[];
  #value = 0;
  #created: number = Date.now();
  #exemplar: Exemplar | undefined;
  /** Last collect's sample: resent while the value is the same (an idle series allocates nothing). */
  #sample: ValueSample | undefined;

  /** A counter of `desc` with these label values; use {@linkcode newCounter} or a CounterVec. */
  constructor(desc: Desc, labelValues: readonly string[] = noLabels) {
    this.desc = desc;
    this.labelValues = labelValues;
  }

  /** Adds 1. */
  inc(): void {
    this.#value++;
  }

  /**
   * Adds `v`, which must not be negative: a counter that went down would look like a
   * restart to `rate()`. Throws, naming the counter, as Go panics.
   */
  add(v: number): void {
    if (v < 0) throw this.#decrease(v);
    this.#value += v;
  }

  /**
   * Adds `v` and keeps it as the counter's exemplar with `labels` (a trace ID, say)
   * and the current time, as Go's `AddWithExemplar`. Throws, changing nothing, when
   * `v` is negative or the labels are invalid or longer than 128 characters in all.
   */
  addWithExemplar(v: number, labels: Labels): void {
    if (v < 0) throw this.#decrease(v);
    const e = newExemplar(`counter ${JSON.stringify(this.desc.fqName)}`, v, labels);
    this.#value += v;
    this.#exemplar = e;
    this.#sample = undefined;
  }

  /** Sets the counter back to 0, forgets its exemplar and restarts its created time. */
  reset(): void {
    this.#value = 0;
    this.#exemplar = undefined;
    this.#created = Date.now();
    this.#sample = undefined;
  }

  /** The current value. */
  get value(): number {
    return this.#value;
  }

  /** The collector's name: the metric name, with its constant labels if any. */
  get name(): string {
    return collectorNameOf(this.desc);
  }

  /** Sends the counter's Desc. */
  describe(ch: (desc: Desc) => void): void {
    ch(this.desc);
  }

  /** Sends the counter's current value, created time and exemplar. */
  collect(ch: (metric: Metric) => void): void {
    let s = this.#sample;
    if (s === undefined || s.value !== this.#value) {
      s = this.#sample = new ValueSample(
        this.desc,
        this.labelValues,
        CounterValue,
        this.#value,
        this.#created,
        this.#exemplar,
      );
    }
    ch(s);
  }

  #decrease(v: number): Error {
    return new Error(`counter ${JSON.stringify(this.desc.fqName)} cannot decrease in value (add ${v})`);
  }
}

/**
 * Returns a counter, as Go's `prometheus.NewCounter`. Throws when the name, a label
 * name or value is invalid. Register it to expose it.
 *
 * @example
 * ```ts
 * const processed = newCounter({ namespace: "myapp", name: "processed_ops_total", help: "Processed events." });
 * mustRegister(processed);
 * processed.inc();
 * ```
 */
export function newCounter(opts: CounterOpts): Counter {
  return new Counter(descFromOpts(opts, []));
}

/** Counters partitioned by label values, as Go's `prometheus.CounterVec`. */
export type CounterVec = MetricVec<Counter>;

/**
 * Returns a CounterVec, as Go's `prometheus.NewCounterVec`: one counter per
 * combination of `labelNames` values.
 *
 * @example
 * ```ts
 * const requests = newCounterVec({ name: "http_requests_total", help: "Requests." }, ["code", "method"]);
 * mustRegister(requests);
 * requests.withLabelValues("200", "GET").inc();
 * ```
 */
export function newCounterVec(opts: CounterOpts, labelNames: readonly string[]): CounterVec {
  const desc = descFromOpts(opts, labelNames);
  return new MetricVec(desc, (lvs) => new Counter(desc, lvs));
}

/**
 * A Collector whose one counter value is read from a function at every collect, as
 * Go's `prometheus.NewCounterFunc`: for a count kept elsewhere. The function must
 * return a value that never decreases.
 *
 * @example
 * ```ts
 * mustRegister(newCounterFunc({ name: "cache_evictions_total", help: "Evictions." }, () => cache.evictions));
 * ```
 */
export function newCounterFunc(opts: CounterOpts, fn: () => number): Collector {
  return new ValueFunc(descFromOpts(opts, []), CounterValue, fn);
}

/** A collector of one value read from a function; counter, gauge or untyped. */
export class ValueFunc implements Collector {
  readonly desc: Desc;
  readonly #type: typeof CounterValue | "gauge" | "untyped";
  readonly #fn: () => number;
  /** A collector of `fn()` as a metric of `desc` and `type`. */
  constructor(desc: Desc, type: typeof CounterValue | "gauge" | "untyped", fn: () => number) {
    if (typeof fn !== "function") {
      throw new TypeError(`metric ${JSON.stringify(desc.fqName)}: the value function is not a function`);
    }
    this.desc = desc;
    this.#type = type;
    this.#fn = fn;
  }
  /** The collector's name: the metric name, with its constant labels if any. */
  get name(): string {
    return collectorNameOf(this.desc);
  }

  /** Sends the one Desc. */
  describe(ch: (desc: Desc) => void): void {
    ch(this.desc);
  }
  /** Sends the function's value now (a const metric: the registry's fast path). */
  collect(ch: (metric: Metric) => void): void {
    ch(mustNewConstMetric(this.desc, this.#type, this.#fn()));
  }
}

// Always gathered, without a --collector flag or scrape_collector series (collector.ts).
markMetricWithState(Counter.prototype);
markMetricWithState(ValueFunc.prototype);
