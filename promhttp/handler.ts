import { defaultRegistry } from "../prometheus/default_registry.ts";
import type { Desc } from "../prometheus/desc.ts";
import { dropEscapingCollisions, type EscapingScheme } from "../prometheus/escaping.ts";
import { contentType, type EncodeOpts, type Format } from "../prometheus/expfmt.ts";
import {
  type Gatherer,
  type GatherError,
  type MetricFamily,
  Registry,
  UnknownCollectorError,
} from "../prometheus/registry.ts";
import { maxTimerMs } from "../prometheus/timers.ts";
import { defaultNamespace, ScrapeCollectorMetrics } from "./collector_metrics.ts";
import { encodeBody, type Encoding, markWholeBody, piecesInOrder } from "./_body.ts";
import { handlerMetrics } from "./handler_metrics.ts";
import { acceptsGzip, negotiate, type Negotiated } from "./negotiate.ts";

/** A web-standard request handler, usable with Bun.serve, Deno.serve or any framework. */
export type Handler = (req: Request) => Promise<Response>;

/** Serve what could be gathered with 200, and count and log the errors (the default). */
export const ContinueOnError = "continue";
/** Answer 500 naming the collectors and errors when anything could not be gathered. */
export const HTTPErrorOnError = "http-error";
/** What the handler does when gathering reports errors, as promhttp's `ErrorHandling`. */
export type ErrorHandling = typeof ContinueOnError | typeof HTTPErrorOnError;

/** Receives one line per error: a message and fields naming what failed. */
export type ErrorLog = (message: string, fields: Record<string, string>) => void;

/**
 * Options for {@linkcode handlerFor}, as promhttp's `HandlerOpts`: every field is
 * optional and the zero value is sane.
 */
export interface HandlerOpts {
  /** What to do when collectors fail; defaults to {@linkcode ContinueOnError}. */
  readonly errorHandling?: ErrorHandling;
  /** Where errors are logged; defaults to one logfmt line on stderr. */
  readonly errorLog?: ErrorLog;
  /**
   * Where each scrape's debug lines go: one per collector that ran, as node_exporter's
   * `collector succeeded name=… duration_seconds=…`, with the series it sent. None
   * when absent; `parseFlags` sets it for `--log.level=debug`.
   */
  readonly debugLog?: (message: string, fields: Record<string, string | number>) => void;
  /** Concurrent scrapes allowed; more get 503. 0 or absent: unlimited. */
  readonly maxRequestsInFlight?: number;
  /** Deadline for one scrape in milliseconds; 0 or absent: only Prometheus' own. */
  readonly timeoutMs?: number;
  /**
   * Milliseconds a client has to take a large (streamed) body, from when it is ready;
   * a body still unread then is aborted (its stream errored, so the client never takes
   * a truncated body for a whole one) and the handler lets go of its memory. Closing
   * the connection is the server's: neither Bun nor Deno closes a connection whose
   * client does not read when its body aborts (Bun does at its idle timeout, Deno when
   * the client goes; measured 2026-12-03). 0 or absent: no limit. Either way a client
   * that does not read holds no in-flight place: that is held while a scrape is
   * gathered and encoded, not while it is sent.
   */
  readonly writeTimeoutMs?: number;
  /**
   * Serve OpenMetrics when the client prefers it. Off by default, as in promhttp:
   * OpenMetrics types a counter whose name lacks `_total` (`foo_metric`) `unknown`,
   * as prometheus/common's encoder does, so turning it on changes the metadata of
   * series that users already query.
   */
  readonly enableOpenMetrics?: boolean;
  /**
   * Write `_created` lines in OpenMetrics for counters, histograms and summaries that
   * have a created timestamp, as promhttp's `EnableOpenMetricsTextCreatedSamples`. Off
   * by default, as there: they cost bandwidth and Prometheus ingests them only
   * behind a feature flag. The protobuf exposition always carries created timestamps.
   */
  readonly enableOpenMetricsTextCreatedSamples?: boolean;
  /** Never gzip, even when the client asks for it. */
  readonly disableCompression?: boolean;
  /**
   * Where the handler's own `promhttp_*` metrics are registered; defaults to the
   * registry it serves. `null` leaves them out.
   */
  readonly registry?: Registry | null;
  /**
   * Prefix of the per-collector families `<namespace>_scrape_collector_success` and
   * `<namespace>_scrape_collector_duration_seconds`; defaults to "ts_exporter".
   */
  readonly namespace?: string;
}

/** Time taken off Prometheus' scrape timeout so that the answer arrives before it. */
function scrapeDeadlineMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const s = Number(header);
  if (!Number.isFinite(s) || s <= 0) return undefined;
  return s * 1000 - Math.min(500, s * 100);
}

/** Whether `d` is a deadline in ms that a timer can hold: positive, at most 2^31-1. */
function usableMs(d: number | undefined): d is number {
  return d !== undefined && d > 0 && d <= maxTimerMs;
}

/** The earlier of two deadlines, leaving out those a timer cannot hold; no array per scrape. */
function earlier(a: number | undefined, b: number | undefined): number | undefined {
  return usableMs(a) ? (usableMs(b) ? Math.min(a, b) : a) : usableMs(b) ? b : undefined;
}

function defaultErrorLog(message: string, fields: Record<string, string>): void {
  const kv = Object.entries(fields).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ");
  console.error(`level=error msg=${JSON.stringify(message)} ${kv}`);
}

/**
 * Returns a handler serving the default registry, with the handler's own metrics
 * registered there, as Go's `promhttp.Handler()`.
 */
export function handler(opts: HandlerOpts = {}): Handler {
  return handlerFor(defaultRegistry, opts);
}

/**
 * Wraps a metrics handler so that it counts its requests by status code
 * (`promhttp_metric_handler_requests_total`) and the requests being served
 * (`promhttp_metric_handler_requests_in_flight`), both registered with `registry`, as
 * Go's `promhttp.InstrumentMetricHandler`. Several wrappers on one registry share the
 * counters.
 *
 * @example
 * ```ts
 * const h = instrumentMetricHandler(registry, handlerFor(registry, { registry: null }));
 * ```
 */
export function instrumentMetricHandler(registry: Registry, handler: Handler): Handler {
  const m = handlerMetrics(registry);
  return async (req) => {
    m.inFlight++;
    try {
      const res = await handler(req);
      m.countRequest(res.status);
      return res;
    } finally {
      m.inFlight--;
    }
  };
}

/** What one gather and encoding gave, for every request that shares it. */
type Outcome = { encoding: Encoding } | { status: number; text: string };

/** A gather and encoding in progress, and the requests waiting for it. */
interface Shared {
  readonly outcome: Promise<Outcome>;
  waiting: number;
  settled: boolean;
}

/**
 * Returns a handler that gathers `gatherer` on each GET or HEAD and answers with the
 * exposition, as Go's `promhttp.HandlerFor`: content negotiation (OpenMetrics only
 * when enabled), gzip when accepted, a limit on concurrent scrapes, a deadline from
 * `X-Prometheus-Scrape-Timeout-Seconds` and `timeoutMs`, the `name[]` query parameter
 * to select families and `collect[]` to select collectors. Per-collector
 * `<namespace>_scrape_collector_*` families are added to what it gathers. Unless
 * `opts.registry` is null, its requests are counted (see
 * {@linkcode instrumentMetricHandler}) in `opts.registry`, by default the gatherer when
 * it is a Registry.
 *
 * A GET that comes while another with the same query and headers is being gathered
 * and encoded is answered with that one's body: concurrent scrapes of one exposition
 * share one encoding, rather than each holding a copy until its client has read it.
 *
 * @example
 * ```ts
 * const registry = new Registry();
 * registry.mustRegister(newFooCollector());
 * Bun.serve({ port: 8080, fetch: handlerFor(registry, { maxRequestsInFlight: 10 }) });
 * ```
 */
export function handlerFor(gatherer: Gatherer, opts: HandlerOpts = {}): Handler {
  const errorHandling = opts.errorHandling ?? ContinueOnError;
  const errorLog = opts.errorLog ?? defaultErrorLog;
  const limit = opts.maxRequestsInFlight ?? 0;
  const writeTimeoutMs = opts.writeTimeoutMs ?? 0;
  const afterwards = new ScrapeCollectorMetrics(opts.namespace ?? defaultNamespace);
  const own = opts.registry === null
    ? undefined
    : opts.registry ?? (gatherer instanceof Registry ? gatherer : undefined);
  const errorMetrics = own && handlerMetrics(own);
  const inProgress = new Map<string, Shared>();
  let inFlight = 0;
  const encodeOpts = { createdLines: opts.enableOpenMetricsTextCreatedSamples ?? false };
  const encodeOptsByScheme = new Map<EscapingScheme, EncodeOpts>();
  const headersOf = responseHeaders();
  const escapingChecked = collisionsMemo();

  const text = (code: number, body: string, headers: Record<string, string> = {}) =>
    new Response(body, { status: code, headers: { "Content-Type": "text/plain; charset=utf-8", ...headers } });

  /** Gathers; the errors are logged and counted here, once for every request sharing them. */
  const gather = async (timeoutHeader: string | null, query: URLSearchParams | undefined) => {
    const deadline = earlier(scrapeDeadlineMs(timeoutHeader), opts.timeoutMs);
    const signal = deadline === undefined ? undefined : AbortSignal.timeout(deadline);
    const selected = query?.getAll("collect[]");
    const gathered = await gatherer.gather({ signal, only: selected?.length ? selected : undefined, afterwards });
    if (opts.debugLog) {
      for (const c of gathered.collectors) {
        opts.debugLog(c.success ? "collector succeeded" : "collector failed", {
          name: c.name,
          duration_seconds: c.durationSeconds,
          series: c.series,
        });
      }
    }
    if (gathered.errors.length) {
      errorMetrics?.countError("gathering");
      for (const e of gathered.errors) logGatherError(errorLog, e);
    }
    return gathered;
  };

  /** Gathers and encodes one exposition; always calls the gather's done. */
  const scrape = async (
    timeoutHeader: string | null,
    query: URLSearchParams | undefined,
    format: Format,
    escaping: EscapingScheme,
    gzip: boolean,
  ): Promise<Outcome> => {
    const gathered = await gather(timeoutHeader, query);
    const names = query?.getAll("name[]");
    const selected = names?.length ? filterFamilies(gathered.families, new Set(names)) : gathered.families;
    // Names that collide once escaped for this scraper are gather errors like any
    // other: the later family is left out, and logged and counted once per scrape.
    const { families, errors: escapeErrors } = escapingChecked(selected, escaping);
    if (escapeErrors.length) {
      if (!gathered.errors.length) errorMetrics?.countError("gathering");
      for (const e of escapeErrors) logGatherError(errorLog, e);
    }
    if ((gathered.errors.length || escapeErrors.length) && errorHandling === HTTPErrorOnError) {
      gathered.done();
      return { status: 500, text: errorText([...gathered.errors, ...escapeErrors]) };
    }
    let eo = encodeOptsByScheme.get(escaping);
    if (eo === undefined) encodeOptsByScheme.set(escaping, eo = { ...encodeOpts, escaping });
    try {
      return { encoding: await encodeBody({ families, done: gathered.done }, format, gzip, eo) };
    } catch (e) {
      errorMetrics?.countError("encoding");
      errorLog("error encoding metrics", { err: e instanceof Error ? e.message : String(e) });
      return { status: 500, text: "An error has occurred while encoding metrics.\n" };
    }
  };

  /** Joins the scrape in progress for `key`, or starts one; hands out its body. */
  const shared = async (
    key: string,
    start: () => Promise<Outcome>,
    headers: Record<string, string>,
    inOrder: boolean,
  ): Promise<Response> => {
    let s = inProgress.get(key);
    if (!s) {
      const outcome = start();
      const made: Shared = s = { outcome, waiting: 0, settled: false };
      inProgress.set(key, made);
      const settle = () => {
        made.settled = true;
        inProgress.delete(key);
      };
      outcome.then(settle, settle);
    }
    s.waiting++;
    let outcome: Outcome | undefined;
    try {
      outcome = await s.outcome;
      if (!("encoding" in outcome)) return text(outcome.status, outcome.text);
      const body = outcome.encoding.body(writeTimeoutMs, inOrder);
      // Handed over whole, at once (the Response copies it), and marked so for web/_http1.ts.
      if (body.content instanceof Uint8Array) {
        return markWholeBody(ok(body.content as Uint8Array<ArrayBuffer>, headers));
      }
      // Only a streamed body can time out.
      body.finished.then((end) => {
        if (end === "write timeout") {
          errorLog("client did not read the metrics within the write timeout; body aborted", {
            timeout: `${writeTimeoutMs}ms`,
          });
        }
      });
      return ok(body.content, headers);
    } finally {
      // The last request to take a body from the encoding lets go of it.
      if (--s.waiting === 0 && s.settled && outcome && "encoding" in outcome) outcome.encoding.drop();
    }
  };

  const metrics = async (req: Request): Promise<Response> => {
    if (limit > 0 && inFlight >= limit) {
      return text(503, `Limit of concurrent requests reached (${limit}), try again later.\n`);
    }
    const search = searchOf(req.url);
    const query = search === "" ? undefined : new URLSearchParams(search);
    const h = req.headers;
    const negotiated = negotiate(h.get("Accept"), opts.enableOpenMetrics ?? false);
    const { format, escaping } = negotiated;
    const gzip = !opts.disableCompression && acceptsGzip(h.get("Accept-Encoding"));
    const headers = headersOf(negotiated, gzip);
    const timeoutHeader = h.get("X-Prometheus-Scrape-Timeout-Seconds");
    inFlight++;
    try {
      if (req.method === "HEAD") {
        const gathered = await gather(timeoutHeader, query);
        gathered.done();
        if (gathered.errors.length && errorHandling === HTTPErrorOnError) return text(500, errorText(gathered.errors));
        return ok(null, headers);
      }
      const key = `${format}\u0000${escaping}\u0000${gzip}\u0000${timeoutHeader}\u0000${search}`;
      return await shared(key, () => scrape(timeoutHeader, query, format, escaping, gzip), headers, piecesInOrder(req));
    } catch (e) {
      if (e instanceof UnknownCollectorError) {
        return text(
          400,
          `Unknown collector ${JSON.stringify(e.collector)} in collect[]; known: ${e.known.join(", ") || "none"}.\n`,
        );
      }
      throw e;
    } finally {
      inFlight--;
    }
  };
  const counted = own ? instrumentMetricHandler(own, metrics) : metrics;
  // Other methods are refused before they are counted: they are no scrapes.
  return (req) => {
    const method = req.method;
    if (method === "GET" || method === "HEAD") return counted(req);
    return Promise.resolve(text(405, `Method ${method} not allowed; use GET or HEAD.\n`, { "Allow": "GET, HEAD" }));
  };
}

/**
 * dropEscapingCollisions, which reads only each family's name, its Desc's label names
 * and the scheme, skipped when those are what the last call found nothing to drop in:
 * the same names and Descs, in the same order, as a registry gathers them scrape after
 * scrape. Checking a default scrape's ~35 names against the legacy grammar cost it
 * ~1-2 µs; comparing them with the last ones costs a tenth of that.
 */
function collisionsMemo(): typeof dropEscapingCollisions {
  let scheme: EscapingScheme | undefined;
  let names: string[] = [], descs: Desc[] = [];
  return (families, escaping) => {
    let same = escaping === scheme && families.length === names.length;
    for (let i = 0; same && i < families.length; i++) {
      same = families[i].name === names[i] && families[i].desc === descs[i];
    }
    if (same) return { families, errors: [] };
    const r = dropEscapingCollisions(families, escaping);
    if (r.errors.length === 0 && r.families.length === families.length) {
      scheme = escaping;
      names = families.map((f) => f.name);
      descs = families.map((f) => f.desc);
    }
    return r;
  };
}

/**
 * The headers of a scrape's answer, made once per negotiated format and kept: a
 * scraper asks the same way every time, and `negotiate` hands out one object per
 * Accept header it has seen. Frozen, as every answer of that kind shares them (a
 * Response copies its headers).
 */
function responseHeaders(): (n: Negotiated, gzip: boolean) => Readonly<Record<string, string>> {
  const made = new WeakMap<Negotiated, Readonly<Record<string, string>>[]>();
  return (n, gzip) => {
    let pair = made.get(n);
    if (pair === undefined) {
      const plain = { "Content-Type": contentType(n.format, n.escaping), "Vary": "Accept, Accept-Encoding" };
      pair = [Object.freeze(plain), Object.freeze({ ...plain, "Content-Encoding": "gzip" })];
      made.set(n, pair);
    }
    return pair[gzip ? 1 : 0];
  };
}

/**
 * A 200 answer of `body` with `headers`, which are set on the Response's own Headers
 * rather than passed in an init: Deno's WebIDL conversion of a ResponseInit and its
 * header record cost more than the rest of the Response (a default scrape's, in a
 * loop: 7.9 vs 1.9 µs on Deno 2.9, 1.03 vs 0.75 µs on Bun). The same status, status
 * text and fields either way.
 */
function ok(body: BodyInit | null, headers: Readonly<Record<string, string>>): Response {
  const res = new Response(body), h = res.headers;
  for (const name in headers) h.set(name, headers[name]);
  return res;
}

/**
 * The query of a request URL, without `?` or a fragment: read by hand, as most
 * scrapes have none and parsing the whole URL cost each ~1 µs.
 */
function searchOf(url: string): string {
  const h = url.indexOf("#"), end = h < 0 ? url.length : h;
  const q = url.indexOf("?");
  return q < 0 || q > end ? "" : url.slice(q + 1, end);
}

function errorText(errors: readonly GatherError[]): string {
  return "An error has occurred while serving metrics:\n\n" + errors.map((e) => e.message).join("\n") + "\n";
}

function filterFamilies(families: readonly MetricFamily[], names: Set<string>): MetricFamily[] {
  return families.filter((f) => names.has(f.name));
}

function logGatherError(log: ErrorLog, e: GatherError): void {
  const fields: Record<string, string> = { collector: e.collector, err: e.message };
  if (e.family) fields.family = e.family;
  log("error gathering metrics", fields);
}
