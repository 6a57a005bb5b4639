import { defaultRegistry } from "../prometheus/default_registry.ts";
import { contentTypes } from "../prometheus/expfmt.ts";
import { GatherError, type GatherOptions, type MetricFamily, type Registry } from "../prometheus/registry.ts";
import { defaultNamespace, mergeFamilies, scrapeCollectorFamilies, selectableCollectors } from "./collector_metrics.ts";
import { type Body, encodeBody } from "./_body.ts";
import { HandlerMetrics } from "./instrument.ts";
import { isExporterMetrics } from "../prometheus/collector.ts";
import { acceptsGzip, negotiate } from "./negotiate.ts";

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
  /** Concurrent scrapes allowed; more get 503. 0 or absent: unlimited. */
  readonly maxRequestsInFlight?: number;
  /** Deadline for one scrape in milliseconds; 0 or absent: only Prometheus' own. */
  readonly timeoutMs?: number;
  /**
   * Serve OpenMetrics when the client prefers it. Off by default, as in promhttp:
   * OpenMetrics exposes a counter `foo_metric` as `foo_metric_total`, so turning it
   * on renames series that users already query.
   */
  readonly enableOpenMetrics?: boolean;
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

/**
 * The longest delay a timer holds: 2^31-1 ms, 24.8 days. Deno fires a longer
 * AbortSignal.timeout at once, and both runtimes throw beyond 2^53 ms, so a deadline
 * further off than this counts as none.
 */
const maxTimerMs = 2 ** 31 - 1;

/** Time taken off Prometheus' scrape timeout so that the answer arrives before it. */
function scrapeDeadlineMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const s = Number(header);
  if (!Number.isFinite(s) || s <= 0) return undefined;
  return s * 1000 - Math.min(500, s * 100);
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
 * Returns a handler that gathers `registry` on each GET or HEAD and answers with the
 * exposition, as Go's `promhttp.HandlerFor`: content negotiation (OpenMetrics only
 * when enabled), gzip when accepted, a limit on concurrent scrapes, a deadline from
 * `X-Prometheus-Scrape-Timeout-Seconds` and `timeoutMs`, and the `name[]` query
 * parameter to select families.
 *
 * @example
 * ```ts
 * const registry = new Registry();
 * registry.mustRegister(newFooCollector());
 * Bun.serve({ port: 8080, fetch: handlerFor(registry, { maxRequestsInFlight: 10 }) });
 * ```
 */
export function handlerFor(registry: Registry, opts: HandlerOpts = {}): Handler {
  const errorHandling = opts.errorHandling ?? ContinueOnError;
  const errorLog = opts.errorLog ?? defaultErrorLog;
  const limit = opts.maxRequestsInFlight ?? 0;
  const collectorFamilies = scrapeCollectorFamilies(opts.namespace ?? defaultNamespace);
  const self = opts.registry === null ? undefined : HandlerMetrics.for(opts.registry ?? registry);
  let inFlight = 0;

  const answer = (code: number, body: string, headers: Record<string, string> = {}) => {
    self?.countRequest(code);
    return new Response(body, { status: code, headers: { "Content-Type": "text/plain; charset=utf-8", ...headers } });
  };

  return async (req: Request): Promise<Response> => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response(`Method ${req.method} not allowed; use GET or HEAD.\n`, {
        status: 405,
        headers: { "Allow": "GET, HEAD", "Content-Type": "text/plain; charset=utf-8" },
      });
    }
    if (limit > 0 && inFlight >= limit) {
      return answer(503, `Limit of concurrent requests reached (${limit}), try again later.\n`);
    }
    const url = new URL(req.url);
    const selected = url.searchParams.getAll("collect[]");
    let filter: GatherOptions["filter"];
    if (selected.length) {
      const known = selectableCollectors(registry);
      const unknown = selected.filter((n) => !known.includes(n));
      if (unknown.length) {
        return answer(400, `Unknown collector ${JSON.stringify(unknown[0])} in collect[]; known: ${known.join(", ") || "none"}.\n`);
      }
      const want = new Set(selected);
      filter = (c, name) => isExporterMetrics(c) || want.has(name);
    }
    inFlight++;
    if (self) self.inFlight++;
    // A scrape is in flight until its body is encoded, which for a streamed body is
    // after this function returns; `end` is called once, whichever way it ends.
    let ended = false, streaming = false;
    let release = () => {};
    const end = (error?: unknown) => {
      if (ended) return;
      ended = true;
      release();
      if (error !== undefined) {
        self?.countError("encoding");
        errorLog("error encoding metrics", { err: error instanceof Error ? error.message : String(error) });
      }
      inFlight--;
      if (self) self.inFlight--;
    };
    try {
      const deadlines = [scrapeDeadlineMs(req.headers.get("X-Prometheus-Scrape-Timeout-Seconds")), opts.timeoutMs]
        .filter((d): d is number => d !== undefined && d > 0 && d <= maxTimerMs);
      const signal = deadlines.length ? AbortSignal.timeout(Math.min(...deadlines)) : undefined;
      const gathered = await registry.gather({ signal, filter, recycle: true });
      // Until released, the gathered series stay put; after, a later scrape may reuse
      // their memory (see Registry.gather's `recycle`).
      release = gathered.release;
      const errors = [...gathered.errors];
      const merged = mergeFamilies(gathered.families, collectorFamilies(gathered.collectors));
      for (const name of merged.clashes) {
        errors.push(new GatherError("promhttp", `per-collector family ${name} clashes with a collected family of that name`, name));
      }
      if (errors.length) {
        self?.countError("gathering");
        for (const e of errors) logGatherError(errorLog, e);
        if (errorHandling === HTTPErrorOnError) {
          return answer(
            500,
            "An error has occurred while serving metrics:\n\n" + errors.map((e) => e.message).join("\n") + "\n",
          );
        }
      }
      const names = url.searchParams.getAll("name[]");
      const families = names.length ? filterFamilies(merged.families, new Set(names)) : merged.families;
      const format = negotiate(req.headers.get("Accept"), opts.enableOpenMetrics ?? false);
      const headers: Record<string, string> = { "Content-Type": contentTypes[format], "Vary": "Accept, Accept-Encoding" };
      const gzip = !opts.disableCompression && acceptsGzip(req.headers.get("Accept-Encoding"));
      if (gzip) headers["Content-Encoding"] = "gzip";
      if (req.method === "HEAD") {
        self?.countRequest(200);
        return new Response(null, { status: 200, headers });
      }
      let body: Body;
      try {
        streaming = true; // from here encodeBody calls end()
        body = await encodeBody(families, format, gzip, end);
      } catch (e) {
        end(e);
        return answer(500, "An error has occurred while encoding metrics.\n");
      }
      self?.countRequest(200);
      const res = new Response(body.bytes as BodyInit, { status: 200, headers });
      body.release(); // the Response has its own copy
      return res;
    } finally {
      if (!streaming) end();
    }
  };
}

function filterFamilies(families: MetricFamily[], names: Set<string>): MetricFamily[] {
  return families.filter((f) => names.has(f.name));
}

function logGatherError(log: ErrorLog, e: GatherError): void {
  const fields: Record<string, string> = { collector: e.collector, err: e.message };
  if (e.family) fields.family = e.family;
  log("error gathering metrics", fields);
}
