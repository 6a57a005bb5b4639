// The request-time half of a web config: what one loaded config asks of every
// request (rate limit, basic authentication, headers), and the answers while a
// changed config is invalid. web/webconfig_reload.ts decides which config is in force.
import { BasicAuth, busy, unauthorized, type VerifyFn } from "./auth.ts";
import { withHeaders } from "./headers.ts";
import { TokenBucket } from "./ratelimit.ts";
import type { LoadedWebConfig } from "./webconfig.ts";

/** The health endpoints, which answer without authentication unless told otherwise. */
const healthPaths = new Set(["/-/healthy", "/-/ready"]);

/** A request handler as the routes and every wrapper around them are. */
export type RequestHandler = (req: Request) => Promise<Response> | Response;

/**
 * The protections of one loaded web config. A reload builds a new one, so a reload
 * also starts a fresh rate-limit bucket and credential cache, as it always has; one
 * Protection is never changed while requests use it.
 */
export class Protection {
  readonly loaded: LoadedWebConfig;
  readonly #auth: BasicAuth | undefined;
  readonly #limiter: TokenBucket | undefined;
  readonly #healthWithoutAuth: boolean;

  /**
   * `verify` checks a password against a bcrypt hash; it must be given when the
   * config has users (without it they would not be checked, so it throws).
   */
  constructor(loaded: LoadedWebConfig, verify: VerifyFn | undefined, healthWithoutAuth = true) {
    const { users, rateLimit } = loaded.config;
    if (users.size && !verify) throw new Error("a web config with users needs a bcrypt verifier");
    this.loaded = loaded;
    this.#auth = users.size ? new BasicAuth(users, { verify: verify! }) : undefined;
    this.#limiter = rateLimit ? new TokenBucket(rateLimit.intervalMs, rateLimit.burst) : undefined;
    this.#healthWithoutAuth = healthWithoutAuth;
  }

  /**
   * Answers `req` through `handler` behind the rate limit, then basic authentication
   * (when users are configured), with the configured headers. With `broken` set (a
   * changed config failed to load) it fails closed: every request but /-/healthy gets
   * 500 and /-/ready 503, as exporter-toolkit, which reads the file on each request.
   */
  async serve(req: Request, handler: RequestHandler, broken: boolean): Promise<Response> {
    const headers = this.loaded.config.headers;
    // The guard (web/guard.ts) has made req.url absolute and taken it from the target.
    const path = new URL(req.url).pathname;
    const health = healthPaths.has(path) && this.#healthWithoutAuth;
    if (broken) {
      if (path === "/-/healthy" && health) return withHeaders(await handler(req), headers);
      const status = path === "/-/ready" ? 503 : 500;
      return new Response(status === 503 ? "Not ready: the web config is invalid.\n" : "Internal Server Error\n", {
        status,
        headers: { "Content-Type": "text/plain; charset=utf-8" },
      });
    }
    // The rate limit comes before bcrypt, as exporter-toolkit's, so that it also
    // bounds the comparisons a flood can ask for.
    const limiter = this.#limiter;
    if (limiter && !limiter.allow()) {
      return withHeaders(
        new Response("Too Many Requests\n", {
          status: 429,
          headers: { "Retry-After": String(limiter.retryAfterSeconds()), "Content-Type": "text/plain; charset=utf-8" },
        }),
        headers,
      );
    }
    const auth = this.#auth;
    if (auth && !health) {
      const v = await auth.verdict(req.headers.get("Authorization"));
      if (v === "busy") return withHeaders(busy(), headers);
      if (v !== "ok") return withHeaders(unauthorized(), headers);
    }
    return withHeaders(await handler(req), headers);
  }
}
