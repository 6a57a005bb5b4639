import { type Collector, markMetricWithState } from "./collector.ts";
import type { Desc } from "./desc.ts";
import { descFromOpts, type GaugeOpts, type UntypedOpts } from "./opts.ts";
import { constValue, GaugeValue, type Metric, UntypedValue } from "./value.ts";
import { ValueFunc } from "./counter.ts";
import { collectorNameOf } from "./_sample.ts";
import { MetricVec } from "./vec.ts";

const noLabels: readonly string[] = Object.freeze([]);

/**
 * A value that goes up and down, as Go's `prometheus.Gauge`: temperatures, queue
 * lengths, requests in flight. It is a Collector: register it, then set or move it.
 *
 * @example
 * ```ts
 * const queue = newGauge({ name: "queue_length", help: "Items waiting." });
 * queue.inc();
 * queue.sub(2);
 * ```
 */
export class Gauge implements Collector {
  /** The gauge's descriptor. */
  readonly desc: Desc;
  /** Its variable label values (empty unless it is a child of a {@linkcode GaugeVec}). */
  readonly labelValues: readonly string[];
  #value = 0;

  /** A gauge of `desc` with these label values; use {@linkcode newGauge} or a GaugeVec. */
  constructor(desc: Desc, labelValues: readonly string[] = noLabels) {
    this.desc = desc;
    this.labelValues = labelValues;
  }

  /** Sets the gauge to `v`. */
  set(v: number): void {
    this.#value = v;
  }

  /** Adds 1. */
  inc(): void {
    this.#value++;
  }

  /** Subtracts 1. */
  dec(): void {
    this.#value--;
  }

  /** Adds `v` (which may be negative). */
  add(v: number): void {
    this.#value += v;
  }

  /** Subtracts `v` (which may be negative). */
  sub(v: number): void {
    this.#value -= v;
  }

  /** Sets the gauge to the current Unix time in seconds, as Go's `SetToCurrentTime`. */
  setToCurrentTime(): void {
    this.#value = Date.now() / 1000;
  }

  /** The current value. */
  get value(): number {
    return this.#value;
  }

  /** The collector's name: the metric name, with its constant labels if any. */
  get name(): string {
    return collectorNameOf(this.desc);
  }

  /** Sends the gauge's Desc. */
  describe(ch: (desc: Desc) => void): void {
    ch(this.desc);
  }

  /**
   * Sends the current value. A gauge has neither created time nor exemplar, so it is
   * sent as a const metric, which the registry keeps in its columns (_capture.ts).
   */
  collect(ch: (metric: Metric) => void): void {
    ch(constValue(this.desc, GaugeValue, this.#value, this.labelValues));
  }
}

/**
 * Returns a gauge, as Go's `prometheus.NewGauge`. Throws when the name or a label
 * is invalid. Register it to expose it.
 *
 * @example
 * ```ts
 * const queueLength = newGauge({ name: "queue_length", help: "Items waiting." });
 * mustRegister(queueLength);
 * queueLength.set(3);
 * ```
 */
export function newGauge(opts: GaugeOpts): Gauge {
  return new Gauge(descFromOpts(opts, []));
}

/** Gauges partitioned by label values, as Go's `prometheus.GaugeVec`. */
export type GaugeVec = MetricVec<Gauge>;

/**
 * Returns a GaugeVec, as Go's `prometheus.NewGaugeVec`.
 *
 * @example
 * ```ts
 * const temps = newGaugeVec({ name: "room_temperature_celsius", help: "Temperature." }, ["room"]);
 * temps.withLabelValues("kitchen").set(21.5);
 * ```
 */
export function newGaugeVec(opts: GaugeOpts, labelNames: readonly string[]): GaugeVec {
  const desc = descFromOpts(opts, labelNames);
  return new MetricVec(desc, (lvs) => new Gauge(desc, lvs));
}

/**
 * A Collector whose one gauge value is read from a function at every collect, as
 * Go's `prometheus.NewGaugeFunc`.
 *
 * @example
 * ```ts
 * mustRegister(newGaugeFunc({ name: "goroutines", help: "Tasks running." }, () => tasks.size));
 * ```
 */
export function newGaugeFunc(opts: GaugeOpts, fn: () => number): Collector {
  return new ValueFunc(descFromOpts(opts, []), GaugeValue, fn);
}

/**
 * A Collector whose one untyped value is read from a function at every collect, as
 * Go's `prometheus.NewUntypedFunc`: for a source that does not say what it measures.
 *
 * @example
 * ```ts
 * mustRegister(newUntypedFunc({ name: "legacy_value", help: "A value of unknown kind." }, () => read()));
 * ```
 */
export function newUntypedFunc(opts: UntypedOpts, fn: () => number): Collector {
  return new ValueFunc(descFromOpts(opts, []), UntypedValue, fn);
}

// Always gathered, without a --collector flag or scrape_collector series (collector.ts).
markMetricWithState(Gauge.prototype);
