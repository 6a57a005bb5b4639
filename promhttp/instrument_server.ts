// client_golang's promhttp.InstrumentHandler*: wrappers that count, time and size the
// requests a web-standard handler serves. They work with any `(Request) => Response`
// server: Bun.serve, Deno.serve, Hono, the kit's listenAndServe.
import type { Counter } from "../prometheus/counter.ts";
import type { Labels } from "../prometheus/desc.ts";
import type { Gauge } from "../prometheus/gauge.ts";
import type { Observer } from "../prometheus/timer.ts";
import type { MetricVec, VecChild } from "../prometheus/vec.ts";
import { checkLabels, childFor, type InstrumentOpts, sanitizeCode, sanitizeMethod } from "./_labels.ts";

export type { InstrumentOpts } from "./_labels.ts";

/**
 * Any web-standard request handler: what the wrappers take and return. Arguments
 * after the request (Bun's `server`, Deno's `info`, Hono's `env` and context) are
 * passed through as they are; a handler that answers nothing (`undefined`: Bun after
 * `server.upgrade(req)`) is passed through unrecorded.
 */
export type RequestHandler<A extends unknown[] = [], R extends Response | undefined = Response> = (
  req: Request,
  ...rest: A
) => R | Promise<R>;

/** What a wrapper returns for a handler of type `RequestHandler<A, R>`. */
export type InstrumentedHandler<A extends unknown[], R extends Response | undefined> = (
  req: Request,
  ...rest: A
) => Promise<R>;

/** A child of an observer vector (HistogramVec, SummaryVec), perhaps able to keep an exemplar. */
export type ObserverChild = Observer & VecChild & { observeWithExemplar?(v: number, labels: Labels): void };

/** A vector of observers: a HistogramVec or SummaryVec, as Go's `ObserverVec`. */
export type ObserverVec = MetricVec<ObserverChild>;

function observe(o: ObserverChild, v: number, exemplar: Labels | undefined): void {
  if (exemplar && o.observeWithExemplar) o.observeWithExemplar(v, exemplar);
  else o.observe(v);
}

/**
 * Calls `done(bytes)` once the response's body has been sent (read to its end or
 * cancelled by the client going away) with the bytes read, and returns the response to
 * send instead. A response without a body, or a protocol switch (101, a WebSocket
 * upgrade the runtime must see as it is), is done at once.
 */
function whenSent<R extends Response | undefined>(res: R, done: (bytes: number) => void): R {
  if (res === undefined) {
    done(0);
    return res;
  }
  const body = res.body;
  if (body === null || res.status === 101) {
    done(0);
    return res;
  }
  let bytes = 0;
  let finished = false;
  const finish = () => {
    if (!finished) {
      finished = true;
      done(bytes);
    }
  };
  const reader = body.getReader();
  const counted = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done: end, value } = await reader.read();
        if (end) {
          controller.close();
          finish();
          return;
        }
        bytes += value.byteLength;
        controller.enqueue(value);
      } catch (e) {
        finish();
        controller.error(e);
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  });
  return new Response(counted, { status: res.status, statusText: res.statusText, headers: res.headers }) as R;
}

/**
 * Wraps `next` so that `gauge` counts the requests being served, as Go's
 * `InstrumentHandlerInFlight`: up when one arrives, down when its response body has
 * been sent (or the handler failed).
 *
 * @example
 * ```ts
 * const inFlight = newGauge({ name: "http_requests_in_flight", help: "Requests being served." });
 * Bun.serve({ fetch: instrumentHandlerInFlight(inFlight, app) });
 * ```
 */
export function instrumentHandlerInFlight<A extends unknown[], R extends Response | undefined>(
  gauge: Pick<Gauge, "inc" | "dec">,
  next: RequestHandler<A, R>,
): InstrumentedHandler<A, R> {
  return async (req, ...rest) => {
    gauge.inc();
    let res: R;
    try {
      res = await next(req, ...rest);
    } catch (e) {
      gauge.dec();
      throw e;
    }
    return whenSent(res, () => gauge.dec());
  };
}

/**
 * Wraps `next` so that `obs` observes each request's duration in seconds, until its
 * response body has been sent, as Go's `InstrumentHandlerDuration`. `obs` may be
 * partitioned by `code` and `method` (either, both or none; others must be curried).
 * A handler that throws is not observed.
 *
 * @example
 * ```ts
 * const duration = newHistogramVec({ name: "http_request_duration_seconds", help: "Latency." }, ["method"]);
 * const handler = instrumentHandlerDuration(duration, app);
 * ```
 */
export function instrumentHandlerDuration<A extends unknown[], R extends Response | undefined>(
  obs: ObserverVec,
  next: RequestHandler<A, R>,
  opts: InstrumentOpts = {},
): InstrumentedHandler<A, R> {
  const p = checkLabels(obs, "instrumentHandlerDuration");
  return async (req, ...rest) => {
    const start = performance.now();
    const res = await next(req, ...rest);
    if (res === undefined) return res; // no answer (a WebSocket upgrade on Bun): nothing to record
    const code = sanitizeCode(res.status), method = sanitizeMethod(req.method, opts.extraMethods);
    const exemplar = opts.getExemplar?.(req);
    return whenSent(res, () => observe(childFor(obs, p, code, method), (performance.now() - start) / 1000, exemplar));
  };
}

/**
 * Wraps `next` so that `counter` counts requests, as Go's `InstrumentHandlerCounter`,
 * by `code` and `method` if it has those labels (others must be curried). Counted
 * when the handler has answered; a handler that throws is not counted.
 *
 * @example
 * ```ts
 * const requests = newCounterVec({ name: "http_requests_total", help: "Requests." }, ["code", "method"]);
 * const handler = instrumentHandlerCounter(requests, app);
 * ```
 */
export function instrumentHandlerCounter<A extends unknown[], R extends Response | undefined>(
  counter: MetricVec<Counter>,
  next: RequestHandler<A, R>,
  opts: InstrumentOpts = {},
): InstrumentedHandler<A, R> {
  const p = checkLabels(counter, "instrumentHandlerCounter");
  return async (req, ...rest) => {
    const res = await next(req, ...rest);
    if (res === undefined) return res; // no answer (a WebSocket upgrade on Bun): nothing to record
    const c = childFor(counter, p, sanitizeCode(res.status), sanitizeMethod(req.method, opts.extraMethods));
    const exemplar = opts.getExemplar?.(req);
    if (exemplar) c.addWithExemplar(1, exemplar);
    else c.inc();
    return res;
  };
}

/**
 * Wraps `next` so that `obs` observes the seconds until the handler had its response
 * (status and headers) ready, as Go's `InstrumentHandlerTimeToWriteHeader`.
 *
 * @example
 * ```ts
 * const ttfb = newHistogramVec({ name: "http_time_to_write_header_seconds", help: "Time to headers." }, ["code"]);
 * const handler = instrumentHandlerTimeToWriteHeader(ttfb, app);
 * ```
 */
export function instrumentHandlerTimeToWriteHeader<A extends unknown[], R extends Response | undefined>(
  obs: ObserverVec,
  next: RequestHandler<A, R>,
  opts: InstrumentOpts = {},
): InstrumentedHandler<A, R> {
  const p = checkLabels(obs, "instrumentHandlerTimeToWriteHeader");
  return async (req, ...rest) => {
    const start = performance.now();
    const res = await next(req, ...rest);
    if (res === undefined) return res; // no answer (a WebSocket upgrade on Bun): nothing to record
    const seconds = (performance.now() - start) / 1000;
    observe(
      childFor(obs, p, sanitizeCode(res.status), sanitizeMethod(req.method, opts.extraMethods)),
      seconds,
      opts.getExemplar?.(req),
    );
    return res;
  };
}

/**
 * The approximate size of a request in bytes, as Go's: URL, method, header names and
 * values, and the declared body length (Content-Length; 0 when not declared). The
 * protocol string Go adds is not known to a web-standard handler and is left out.
 */
function approximateRequestSize(req: Request): number {
  let s = req.url.length + req.method.length;
  let body = 0;
  req.headers.forEach((value, name) => {
    s += name.length + value.length;
    if (name === "content-length") body = Number(value) || 0;
  });
  return s + body;
}

/**
 * Wraps `next` so that `obs` observes each request's approximate size in bytes, as
 * Go's `InstrumentHandlerRequestSize` (see the size's definition there: URL, method,
 * headers and declared body length).
 *
 * @example
 * ```ts
 * const sizes = newHistogramVec({ name: "http_request_size_bytes", help: "Request sizes.", buckets: exponentialBuckets(100, 10, 6) }, []);
 * const handler = instrumentHandlerRequestSize(sizes, app);
 * ```
 */
export function instrumentHandlerRequestSize<A extends unknown[], R extends Response | undefined>(
  obs: ObserverVec,
  next: RequestHandler<A, R>,
  opts: InstrumentOpts = {},
): InstrumentedHandler<A, R> {
  const p = checkLabels(obs, "instrumentHandlerRequestSize");
  return async (req, ...rest) => {
    const size = approximateRequestSize(req);
    const res = await next(req, ...rest);
    if (res === undefined) return res; // no answer (a WebSocket upgrade on Bun): nothing to record
    observe(
      childFor(obs, p, sanitizeCode(res.status), sanitizeMethod(req.method, opts.extraMethods)),
      size,
      opts.getExemplar?.(req),
    );
    return res;
  };
}

/**
 * Wraps `next` so that `obs` observes the bytes of each response body once it has
 * been sent (what was read of it, if the client went away), as Go's
 * `InstrumentHandlerResponseSize`.
 *
 * @example
 * ```ts
 * const sizes = newHistogramVec(
 *   { name: "http_response_size_bytes", help: "Response sizes.", buckets: exponentialBuckets(100, 10, 6) },
 *   ["code"],
 * );
 * const handler = instrumentHandlerResponseSize(sizes, app);
 * ```
 */
export function instrumentHandlerResponseSize<A extends unknown[], R extends Response | undefined>(
  obs: ObserverVec,
  next: RequestHandler<A, R>,
  opts: InstrumentOpts = {},
): InstrumentedHandler<A, R> {
  const p = checkLabels(obs, "instrumentHandlerResponseSize");
  return async (req, ...rest) => {
    const res = await next(req, ...rest);
    if (res === undefined) return res; // no answer (a WebSocket upgrade on Bun): nothing to record
    const child = childFor(obs, p, sanitizeCode(res.status), sanitizeMethod(req.method, opts.extraMethods));
    const exemplar = opts.getExemplar?.(req);
    return whenSent(res, (bytes) => observe(child, bytes, exemplar));
  };
}
