// The metrics handler's own metrics, under promhttp's names: requests and in-flight
// scrapes counted by instrumentMetricHandler, internal errors counted by handlerFor.
import { type Collector, markExporterMetrics } from "../prometheus/collector.ts";
import { type Desc, newDesc } from "../prometheus/desc.ts";
import { AlreadyRegisteredError, type Registry } from "../prometheus/registry.ts";
import { CounterValue, GaugeValue, type Metric, mustNewConstMetric } from "../prometheus/value.ts";

const requestsDesc = newDesc(
  "promhttp_metric_handler_requests_total",
  "Total number of scrapes by HTTP status code.",
  ["code"],
);
const inFlightDesc = newDesc("promhttp_metric_handler_requests_in_flight", "Current number of scrapes being served.");
const errorsDesc = newDesc(
  "promhttp_metric_handler_errors_total",
  "Total number of internal errors encountered by the promhttp metric handler.",
  ["cause"],
);

/** `promhttp_metric_handler_requests_total` by code and `_requests_in_flight`. */
export class RequestMetrics implements Collector {
  readonly name = "promhttp";
  /** Scrapes answered, by status code; 200, 500 and 503 exist from the start. */
  readonly requests = new Map<string, number>([["200", 0], ["500", 0], ["503", 0]]);
  inFlight = 0;

  describe(ch: (d: Desc) => void): void {
    ch(requestsDesc);
    ch(inFlightDesc);
  }

  collect(ch: (m: Metric) => void): void {
    for (const [code, n] of this.requests) ch(mustNewConstMetric(requestsDesc, CounterValue, n, code));
    ch(mustNewConstMetric(inFlightDesc, GaugeValue, this.inFlight));
  }

  countRequest(code: number): void {
    const k = String(code);
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
  }
}

/** `promhttp_metric_handler_errors_total` by cause. */
export class ErrorMetrics implements Collector {
  readonly name = "promhttp_errors";
  readonly errors = new Map<string, number>([["encoding", 0], ["gathering", 0]]);

  describe(ch: (d: Desc) => void): void {
    ch(errorsDesc);
  }

  collect(ch: (m: Metric) => void): void {
    for (const [cause, n] of this.errors) ch(mustNewConstMetric(errorsDesc, CounterValue, n, cause));
  }

  countError(cause: "encoding" | "gathering"): void {
    this.errors.set(cause, (this.errors.get(cause) ?? 0) + 1);
  }
}

/**
 * Registers `fresh` with `registry` as one of the exporter's own metrics, or returns
 * the instance of its class registered there already, so that several handlers of
 * one registry share one set of counters, as promhttp does with AlreadyRegisteredError.
 */
export function registerShared<C extends Collector>(registry: Registry, fresh: C): C {
  try {
    registry.register(markExporterMetrics(fresh));
    return fresh;
  } catch (e) {
    if (e instanceof AlreadyRegisteredError && e.existingCollector.constructor === fresh.constructor) {
      return e.existingCollector as C;
    }
    throw e;
  }
}
