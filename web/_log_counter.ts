// A counter of something a flood can cause (bad requests, refused connections):
// every event counted in a metric, logged at most once per interval with how many
// there were since the last line, so that a flood costs no log volume.
import { type Collector, markExporterMetrics } from "../prometheus/collector.ts";
import { type Desc, newDesc } from "../prometheus/desc.ts";
import { CounterValue, type Metric, mustNewConstMetric } from "../prometheus/value.ts";
import type { Logger } from "./log.ts";

/** A counted event that is logged at most once per `intervalMs`. */
export class LoggedCounter {
  #count = 0;
  #loggedAt = -Infinity;
  #unlogged = 0;
  readonly #desc: Desc;

  constructor(
    private readonly collectorName: string,
    fqName: string,
    help: string,
    private readonly logger: Logger,
    private readonly message: string,
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#desc = newDesc(fqName, help);
  }

  /** The counter as a collector, to register with the exporter's registry. */
  collector(): Collector {
    return markExporterMetrics({
      name: this.collectorName,
      describe: (ch) => ch(this.#desc),
      collect: (ch: (m: Metric) => void) => ch(mustNewConstMetric(this.#desc, CounterValue, this.#count)),
    });
  }

  /** Counts one event; logs a warning with `fields` when the last line is an interval old. */
  add(fields: () => Record<string, unknown>): void {
    this.#count++;
    this.#unlogged++;
    const t = this.now();
    if (t - this.#loggedAt < this.intervalMs) return;
    this.logger.warn(this.message, {
      count: this.#unlogged,
      ...fields(),
      next_line_after: `${this.intervalMs / 1000}s`,
    });
    this.#loggedAt = t;
    this.#unlogged = 0;
  }
}
