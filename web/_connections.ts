// Connections closed because the connection limit (--web.max-connections) was
// reached, a new one or an older one that made room for it: counted, and logged at
// most once per interval, as web/guard.ts does for bad requests, so that a flood
// costs no log volume.
import { type Collector, markExporterMetrics } from "../prometheus/collector.ts";
import { newDesc } from "../prometheus/desc.ts";
import { CounterValue, type Metric, mustNewConstMetric } from "../prometheus/value.ts";
import type { Logger } from "./log.ts";

/** How often at most a line says that connections were refused. */
export const refusedLogIntervalMs = 60_000;

/** `<namespace>_http_connections_refused_total` and its log line. */
export class RefusedConnections {
  #refused = 0;
  #loggedAt = -Infinity;
  #unlogged = 0;
  readonly #desc;

  constructor(
    namespace: string,
    private readonly logger: Logger,
    private readonly limit: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#desc = newDesc(
      `${namespace}_http_connections_refused_total`,
      "Connections closed because --web.max-connections were open: a new one refused, or one not being answered closed to make room for it.",
    );
  }

  /** The counter as a collector, to register with the exporter's registry. */
  collector(): Collector {
    return markExporterMetrics({
      name: "http_connections_refused",
      describe: (ch) => ch(this.#desc),
      collect: (ch: (m: Metric) => void) => ch(mustNewConstMetric(this.#desc, CounterValue, this.#refused)),
    });
  }

  /** Counts one refused connection. */
  readonly refused = (): void => {
    this.#refused++;
    this.#unlogged++;
    const t = this.now();
    if (t - this.#loggedAt < refusedLogIntervalMs) return;
    this.logger.warn("refused connections: the connection limit was reached", {
      count: this.#unlogged,
      max_connections: this.limit,
      next_line_after: `${refusedLogIntervalMs / 1000}s`,
    });
    this.#loggedAt = t;
    this.#unlogged = 0;
  };
}
