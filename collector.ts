// fooCollector: the tutorial's custom collector, with Describe and Collect.
import { type Collector, CounterValue, type Desc, type Metric, mustNewConstMetric, newDesc } from "./prometheus/mod.ts";

/** Exposes two counters telling whether a foo and a bar have occurred. */
export class FooCollector implements Collector {
  readonly name = "foo";
  readonly fooMetric: Desc = newDesc("foo_metric", "Shows whether a foo has occurred in our cluster");
  readonly barMetric: Desc = newDesc("bar_metric", "Shows whether a bar has occurred in our cluster");

  /** Sends the descriptor of every metric this collector can emit. */
  describe(ch: (desc: Desc) => void): void {
    ch(this.fooMetric);
    ch(this.barMetric);
  }

  /** Sends the current values; a real exporter would read them from the system here. */
  collect(ch: (metric: Metric) => void): void {
    ch(mustNewConstMetric(this.fooMetric, CounterValue, 1));
    ch(mustNewConstMetric(this.barMetric, CounterValue, 1));
  }
}

/** Returns a new fooCollector, as the tutorial's `newFooCollector()`. */
export function newFooCollector(): FooCollector {
  return new FooCollector();
}
