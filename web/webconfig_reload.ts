// The web config in force while the exporter runs: loaded at start, compared with the
// files (the config and the certificates it names) every reloadIntervalMs, and
// replaced when they change, failing closed when the change is invalid. What a
// config asks of each request is web/protect.ts. Loaded by listenAndServe only when
// --web.config.file is given.
import type { Logger } from "./log.ts";
import { runtimeVerify, type VerifyFn } from "./auth.ts";
import { currentRuntime, type Runtime } from "./capabilities.ts";
import type { TLSOptions } from "./adapter.ts";
import { Protection, type RequestHandler } from "./protect.ts";
import { type LoadedWebConfig, loadWebConfig, maxWebConfigFileBytes } from "./webconfig.ts";
import { readFile, stat } from "node:fs/promises";

/** How often the web config and its certificates are compared with what is in force. */
export const reloadIntervalMs = 2_000;

/** Options for {@linkcode WebSecurity.load}. */
export interface WebSecurityOptions {
  readonly logger: Logger;
  /** Serve /-/healthy and /-/ready without authentication (--web.health-without-auth). */
  readonly healthWithoutAuth?: boolean;
  readonly runtime?: Runtime;
}

/**
 * A loaded web config and what follows from it. `wrap` applies authentication and
 * headers to a handler; `watch` reads the files again every {@linkcode reloadIntervalMs}
 * and puts a changed config in force: users and headers at once, new TLS material
 * through `onTLS` (which re-listens). A changed file that is invalid is logged and
 * fails closed: every request but the health check gets 500 and /-/ready 503 until
 * the file is fixed, as exporter-toolkit, which reads the file on each request.
 */
export class WebSecurity {
  #protection: Protection;
  #broken: Error | undefined;
  #verify: VerifyFn | undefined;
  readonly #opts: WebSecurityOptions;

  private constructor(loaded: LoadedWebConfig, verify: VerifyFn | undefined, opts: WebSecurityOptions) {
    this.#verify = verify;
    this.#opts = opts;
    this.#protection = new Protection(loaded, verify, opts.healthWithoutAuth);
    this.#warn(loaded);
  }

  get #loaded(): LoadedWebConfig {
    return this.#protection.loaded;
  }

  #warn(l: LoadedWebConfig): void {
    for (const w of l.warnings) this.#opts.logger.warn("web config", { file: l.config.file, warning: w });
  }

  /** Loads `file`; throws WebConfigError naming the file and the key. */
  static async load(file: string, opts: WebSecurityOptions): Promise<WebSecurity> {
    const loaded = await loadWebConfig(file, opts.runtime ?? currentRuntime());
    // bcrypt is imported only when there are users to check.
    const verify = loaded.config.users.size ? await runtimeVerify() : undefined;
    return new WebSecurity(loaded, verify, opts);
  }

  /** The TLS options in force; undefined for plain HTTP. */
  get tls(): TLSOptions | undefined {
    return this.#loaded.tls;
  }

  /** What to log at start: TLS on or off, client certificates, users. */
  describe(): Record<string, unknown> {
    const c = this.#loaded.config;
    return {
      file: c.file,
      tls: c.tls ? `${c.tls.minVersion}-${c.tls.maxVersion}` : "off",
      client_auth: c.tls?.clientAuthType ?? "NoClientCert",
      basic_auth_users: c.users.size,
      rate_limit: c.rateLimit ? `${c.rateLimit.burst} per ${c.rateLimit.intervalMs}ms` : "off",
    };
  }

  /**
   * `handler` behind the protections of the config in force (web/protect.ts), read
   * for each request, so that a reload applies to the next request.
   */
  wrap(handler: RequestHandler): (req: Request) => Promise<Response> {
    return (req) => this.#protection.serve(req, handler, this.#broken !== undefined);
  }

  /**
   * Compares the files with those in force every `intervalMs` and applies a change.
   * Returns a function that stops watching.
   */
  watch(onTLS: (tls: TLSOptions) => Promise<void>, intervalMs = reloadIntervalMs): () => void {
    let busy = false;
    const timer = setInterval(async () => {
      if (busy) return;
      busy = true;
      try {
        if (await this.#changed()) await this.#reload(onTLS);
        else if (this.#broken) {
          // Put back as it was when last in force.
          this.#broken = undefined;
          this.#opts.logger.info("web config is back to the one in force", this.describe());
        }
      } finally {
        busy = false;
      }
    }, intervalMs);
    (timer as { unref?: () => void }).unref?.();
    return () => clearInterval(timer);
  }

  async #changed(): Promise<boolean> {
    for (const [path, text] of this.#loaded.sources) {
      // A file grown past the limit is a change (that the reload refuses), noticed without reading it.
      const size = await stat(path).then((s) => s.size, () => -1);
      if (size > maxWebConfigFileBytes) return true;
      const now = await readFile(path, "utf8").catch(() => undefined);
      if (now !== text) return true;
    }
    return false;
  }

  async #reload(onTLS: (tls: TLSOptions) => Promise<void>): Promise<void> {
    const { logger } = this.#opts;
    const file = this.#loaded.config.file;
    let next: LoadedWebConfig;
    try {
      next = await loadWebConfig(file, this.#opts.runtime ?? currentRuntime());
      if (!next.tls !== !this.#loaded.tls) throw new Error("turning TLS on or off needs a restart");
      // Empty, comment-only or `basic_auth_users:` alone is what a file being rewritten
      // in place looks like for a moment: refused, so that it never turns auth off.
      if (next.config.hollow) {
        throw new Error(
          `web config ${
            JSON.stringify(file)
          }: ${next.config.hollow}; refused at reload (replace the file atomically: write a new one, then rename it over)`,
        );
      }
    } catch (e) {
      if (this.#broken?.message !== (e as Error).message) {
        logger.error("web config changed and is invalid; refusing requests until it is fixed", { err: e });
      }
      this.#broken = e as Error;
      return;
    }
    if (next.config.users.size) this.#verify ??= await runtimeVerify();
    const tlsChanged = JSON.stringify(next.tls) !== JSON.stringify(this.#loaded.tls);
    if (tlsChanged) {
      try {
        await onTLS(next.tls!);
      } catch (e) {
        logger.error("could not serve the new TLS settings; refusing requests until fixed", { err: e });
        this.#broken = e as Error;
        return;
      }
    }
    const removed = [
      this.#loaded.config.users.size && !next.config.users.size && "basic authentication (basic_auth_users)",
      this.#loaded.config.rateLimit && !next.config.rateLimit && "the rate limit (rate_limit)",
      this.#loaded.tls?.clientAuth !== "none" && next.tls?.clientAuth === "none" &&
      "client certificates (client_auth_type)",
      ...Object.keys(this.#loaded.config.headers).filter((h) => !(h in next.config.headers)).map((h) =>
        `the header ${h}`
      ),
    ].filter((x): x is string => typeof x === "string");
    this.#protection = new Protection(next, this.#verify, this.#opts.healthWithoutAuth);
    this.#broken = undefined;
    this.#warn(next);
    if (removed.length) {
      logger.warn("web config reloaded without protections it had", { file, removed: removed.join(", ") });
    }
    logger.info("web config reloaded", { ...this.describe(), tls_changed: tlsChanged });
  }
}
