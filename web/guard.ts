// What every request passes before routing and authentication: the path taken from
// the request target (never from Host), a 400 for a request whose Host or URL cannot
// be used, counted rather than logged each time, and `X-Content-Type-Options: nosniff`
// on every answer, as some answers echo what the client sent.
import type { Collector } from "../prometheus/collector.ts";
import type { Logger } from "./log.ts";
import { LoggedCounter } from "./_log_counter.ts";

/**
 * A Host header as RFC 3986 allows one (reg-name or IPv4, or an IPv6 literal, then an
 * optional port). Anything else could change the URL the runtime builds from it:
 * Deno.serve builds `http://` + Host + target, so `Host: x/metrics?` on /-/healthy
 * would otherwise route to /metrics.
 */
const validHost = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=%]*|\[[0-9A-Fa-f:.]+\])(?::\d{0,5})?$/;

/**
 * `req` with a URL every handler can parse, or why it cannot be served. Bun gives the
 * bare request target as `req.url` when Host is missing (HTTP/1.0, HAProxy's health
 * check) or unusable; such a request is given `http://localhost` + target.
 */
export function normalize(req: Request): Request | string {
  const host = req.headers.get("host");
  if (host !== null && !validHost.test(host)) return "unusable Host header";
  if (req.url.startsWith("/")) {
    for (let i = 0; i < req.url.length; i++) {
      const c = req.url.charCodeAt(i);
      if (c <= 0x20 || c === 0x7f) return "unusable request target"; // blanks and control characters
    }
    return new Request(`http://localhost${req.url}`, req);
  }
  try {
    new URL(req.url);
  } catch {
    return "unusable URL";
  }
  return req;
}

/** How often at most a line says that bad requests were answered 400. */
export const badRequestLogIntervalMs = 60_000;

/**
 * Wraps the server's handler: {@linkcode normalize} first, nosniff on every answer.
 * Bad requests add to `<namespace>_http_bad_requests_total` and are logged at most
 * once per {@linkcode badRequestLogIntervalMs}, with how many there were, so that a
 * flood of them costs neither log volume nor a 500.
 */
export class RequestGuard {
  readonly #bad: LoggedCounter;

  constructor(namespace: string, logger: Logger, now?: () => number) {
    this.#bad = new LoggedCounter(
      "http_bad_requests",
      `${namespace}_http_bad_requests_total`,
      "Requests answered 400 before routing because their Host header or URL could not be used.",
      logger,
      "answered bad requests with 400",
      badRequestLogIntervalMs,
      now,
    );
  }

  /** The counter as a collector, to register with the exporter's registry. */
  collector(): Collector {
    return this.#bad.collector();
  }

  wrap(handler: (req: Request) => Promise<Response> | Response): (req: Request) => Promise<Response> {
    return async (raw) => {
      const req = normalize(raw);
      if (typeof req === "string") return this.#badRequest(req);
      return nosniff(await handler(req));
    };
  }

  #badRequest(why: string): Response {
    this.#bad.add(() => ({ last_reason: why }));
    return nosniff(
      new Response("Bad Request\n", {
        status: 400,
        headers: { "Content-Type": "text/plain; charset=utf-8", Connection: "close" },
      }),
    );
  }
}

/** `res` with `X-Content-Type-Options: nosniff`, copied when its headers are immutable. */
export function nosniff(res: Response): Response {
  try {
    res.headers.set("X-Content-Type-Options", "nosniff");
    return res;
  } catch {
    const h = new Headers(res.headers);
    h.set("X-Content-Type-Options", "nosniff");
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers: h });
  }
}
