// The metrics handler's own metrics, under promhttp's names.
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

/**
 * `promhttp_metric_handler_requests_total` by code and `_requests_in_flight`, counted by
 * instrumentMetricHandler, and `promhttp_metric_handler_errors_total` by cause, counted
 * by handlerFor. One collector for the three, though Go registers them apart: every
 * collector costs each scrape a run and a capture, and these always go together.
 */
export class HandlerMetrics implements Collector {
  readonly name = "promhttp";
  /** Scrapes answered, by status code; 200, 500 and 503 exist from the start. */
  readonly requests = new Map<string, number>([["200", 0], ["500", 0], ["503", 0]]);
  readonly errors = new Map<string, number>([["encoding", 0], ["gathering", 0]]);
  inFlight = 0;

  describe(ch: (d: Desc) => void): void {
    ch(requestsDesc);
    ch(inFlightDesc);
    ch(errorsDesc);
  }

  collect(ch: (m: Metric) => void): void {
    // forEach rather than for-of: no entry array per series.
    this.requests.forEach((n, code) => ch(mustNewConstMetric(requestsDesc, CounterValue, n, code)));
    ch(mustNewConstMetric(inFlightDesc, GaugeValue, this.inFlight));
    this.errors.forEach((n, cause) => ch(mustNewConstMetric(errorsDesc, CounterValue, n, cause)));
  }

  countRequest(code: number): void {
    const k = String(code);
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
  }

  countError(cause: "encoding" | "gathering"): void {
    this.errors.set(cause, (this.errors.get(cause) ?? 0) + 1);
  }
}

/**
 * The HandlerMetrics of `registry`: registered there as one of the exporter's own
 * metrics, or the instance registered already, so that several handlers of one
 * registry share one set of counters, as promhttp does with AlreadyRegisteredError.
 */
export function handlerMetrics(registry: Registry): HandlerMetrics {
  const fresh = new HandlerMetrics();
  try {
    registry.register(markExporterMetrics(fresh));
    return fresh;
  } catch (e) {
    if (e instanceof AlreadyRegisteredError && e.existingCollector instanceof HandlerMetrics) {
      return e.existingCollector;
    }
    throw e;
  }
}
