// Connections closed because the connection limit (--web.max-connections) was
// reached, a new one or an older one that made room for it: counted, and logged at
// most once per interval, as web/guard.ts does for bad requests, so that a flood
// costs no log volume.
import type { Collector } from "../prometheus/collector.ts";
import type { Logger } from "./log.ts";
import { LoggedCounter } from "./_log_counter.ts";

/** How often at most a line says that connections were refused. */
export const refusedLogIntervalMs = 60_000;

/** `<namespace>_http_connections_refused_total` and its log line. */
export class RefusedConnections {
  readonly #counter: LoggedCounter;

  constructor(namespace: string, logger: Logger, private readonly limit: number, now?: () => number) {
    this.#counter = new LoggedCounter(
      "http_connections_refused",
      `${namespace}_http_connections_refused_total`,
      "Connections closed because --web.max-connections were open: a new one refused, or one not being answered closed to make room for it.",
      logger,
      "refused connections: the connection limit was reached",
      refusedLogIntervalMs,
      now,
    );
  }

  /** The counter as a collector, to register with the exporter's registry. */
  collector(): Collector {
    return this.#counter.collector();
  }

  /** Counts one refused connection. */
  readonly refused = (): void => this.#counter.add(() => ({ max_connections: this.limit }));
}
