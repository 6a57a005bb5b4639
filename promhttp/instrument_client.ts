// client_golang's promhttp.InstrumentRoundTripper*, for outgoing requests: wrappers
// around a fetch-shaped function that count, time and track requests in flight.
import type { Counter } from "../prometheus/counter.ts";
import type { Gauge } from "../prometheus/gauge.ts";
import type { MetricVec } from "../prometheus/vec.ts";
import { checkLabels, childFor, type InstrumentOpts, sanitizeCode, sanitizeMethod } from "./_labels.ts";
import type { ObserverVec } from "./instrument_server.ts";

/** A `fetch`-shaped function: the global `fetch`, or a wrapper around it. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** The method a fetch call uses: init's, else the Request's, else GET. */
function methodOf(input: string | URL | Request, init: RequestInit | undefined): string {
  return init?.method ?? (input instanceof Request ? input.method : "GET");
}

/** The Request a fetch call describes, for an exemplar function (made only when one is set). */
function requestOf(input: string | URL | Request, init: RequestInit | undefined): Request {
  return input instanceof Request && init === undefined ? input : new Request(input, init);
}

/**
 * Wraps `next` so that `gauge` counts the requests waiting for their response
 * headers, as Go's `InstrumentRoundTripperInFlight`.
 *
 * @example
 * ```ts
 * const inFlight = newGauge({ name: "client_in_flight_requests", help: "Requests in flight." });
 * const fetchIt = instrumentFetchInFlight(inFlight, fetch);
 * ```
 */
export function instrumentFetchInFlight(gauge: Pick<Gauge, "inc" | "dec">, next: FetchLike): FetchLike {
  return async (input, init) => {
    gauge.inc();
    try {
      return await next(input, init);
    } finally {
      gauge.dec();
    }
  };
}

/**
 * Wraps `next` so that `counter` counts the requests that got a response, by `code`
 * and `method` if it has those labels, as Go's `InstrumentRoundTripperCounter`. A
 * request that fails (network error, abort) is not counted: it rejects as before.
 *
 * @example
 * ```ts
 * const requests = newCounterVec({ name: "client_api_requests_total", help: "Requests." }, ["code", "method"]);
 * const fetchIt = instrumentFetchCounter(requests, fetch);
 * ```
 */
export function instrumentFetchCounter(
  counter: MetricVec<Counter>,
  next: FetchLike,
  opts: InstrumentOpts = {},
): FetchLike {
  const p = checkLabels(counter, "instrumentFetchCounter");
  return async (input, init) => {
    const res = await next(input, init);
    const c = childFor(counter, p, sanitizeCode(res.status), sanitizeMethod(methodOf(input, init), opts.extraMethods));
    const exemplar = opts.getExemplar?.(requestOf(input, init));
    if (exemplar) c.addWithExemplar(1, exemplar);
    else c.inc();
    return res;
  };
}

/**
 * Wraps `next` so that `obs` observes the seconds until each response's headers
 * arrived, by `code` and `method` if it has those labels, as Go's
 * `InstrumentRoundTripperDuration`. A request that fails is not observed.
 *
 * @example
 * ```ts
 * const duration = newHistogramVec({ name: "client_request_duration_seconds", help: "Latency." }, ["method"]);
 * const fetchIt = instrumentFetchDuration(duration, fetch);
 * ```
 */
export function instrumentFetchDuration(obs: ObserverVec, next: FetchLike, opts: InstrumentOpts = {}): FetchLike {
  const p = checkLabels(obs, "instrumentFetchDuration");
  return async (input, init) => {
    const start = performance.now();
    const res = await next(input, init);
    const seconds = (performance.now() - start) / 1000;
    const child = childFor(obs, p, sanitizeCode(res.status), sanitizeMethod(methodOf(input, init), opts.extraMethods));
    const exemplar = opts.getExemplar?.(requestOf(input, init));
    if (exemplar && child.observeWithExemplar) child.observeWithExemplar(seconds, exemplar);
    else child.observe(seconds);
    return res;
  };
}
