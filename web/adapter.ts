/**
 * TLS as an adapter serves it: PEM material already read, settings already checked
 * against what the runtime can enforce (web/capabilities.ts). An adapter given a
 * setting it cannot enforce throws rather than serving with less.
 */
export interface TLSOptions {
  /** The server's certificate chain, PEM. */
  readonly cert: string;
  /** The server's private key, PEM. */
  readonly key: string;
  /** PEM certificates of the CAs that client certificates must chain to. */
  readonly clientCA?: string;
  /**
   * "none": no client certificate asked for; "request": asked for, neither required
   * nor verified (Go's RequestClientCert); "require-and-verify": required and
   * verified against `clientCA`, else the handshake fails.
   */
  readonly clientAuth: "none" | "request" | "require-and-verify";
  /** Lowest and highest protocol version, as on the wire: 0x0301 (TLS 1.0) … 0x0304 (TLS 1.3). */
  readonly minVersion: number;
  /** See `minVersion`. */
  readonly maxVersion: number;
  /** OpenSSL cipher list for TLS 1.2 and below; undefined: the runtime's defaults. */
  readonly ciphers?: string;
  /** Key-exchange groups, OpenSSL style (`X25519:P-256`); undefined: the runtime's defaults. */
  readonly curves?: string;
}

/**
 * How long a connection may take and how many may be open: Go's http.Server
 * ReadHeaderTimeout, IdleTimeout and WriteTimeout, and a connection limit as
 * Prometheus' --web.max-connections. Times in ms; 0 means none.
 */
export interface ConnectionLimits {
  /** From accept (or, on a kept-alive connection, the request's first byte) to the end of the request's header. */
  readonly readHeaderTimeoutMs: number;
  /** How long a kept-alive connection may wait for its next request. */
  readonly idleTimeoutMs: number;
  /** From the end of the request to the end of the response; the connection is closed when it passes. */
  readonly writeTimeoutMs: number;
  /**
   * Open connections at most, per listener; beyond it the adapter closes one not being
   * answered to make room, or the new one. 0: no limit.
   */
  readonly maxConnections: number;
}

/**
 * The defaults of --web.read-header-timeout, --web.idle-timeout and
 * --web.max-connections (--web.write-timeout's is the handler's, 30 s).
 *
 * - 10 s for the header: a scraper sends it at once; Go leaves ReadHeaderTimeout
 *   unset, which is what lets slow-header clients hold descriptors (gosec G112).
 * - 2 min idle: longer than a 1 min scrape interval, so Prometheus (whose client keeps
 *   idle connections 5 min) reuses its connection; within Bun's 255 s maximum.
 * - 512 connections: Prometheus' own --web.max-connections default; never more than
 *   the descriptor limit allows (see {@linkcode effectiveMaxConnections}).
 */
export const defaultConnectionLimits: ConnectionLimits = {
  readHeaderTimeoutMs: 10_000,
  idleTimeoutMs: 120_000,
  writeTimeoutMs: 30_000,
  maxConnections: 512,
};

/** Descriptors kept free of client connections, for the process' own files, sockets and workers. */
export const descriptorHeadroom = 64;

/**
 * The connection limit to enforce: `wanted`, but at most the descriptor soft limit
 * minus {@linkcode descriptorHeadroom} when that limit is known (0, no limit, becomes
 * that bound too), and at least 1.
 */
export function effectiveMaxConnections(wanted: number, softLimit: number | undefined): number {
  if (softLimit === undefined || !Number.isFinite(softLimit)) return wanted;
  const bound = Math.max(1, softLimit - descriptorHeadroom);
  return wanted === 0 ? bound : Math.min(wanted, bound);
}

/** The soft limit of open files from a /proc/PID/limits text, or undefined. */
export function parseOpenFilesLimit(limits: string): number | undefined {
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits);
  return m && m[1] !== "unlimited" ? Number(m[1]) : undefined;
}

/** What a runtime adapter needs to serve one address. */
export interface ListenOptions {
  /** The host name or address to bind (`::` for all, IPv4 and IPv6). */
  readonly hostname: string;
  /** The port; 0 lets the system pick one. */
  readonly port: number;
  /** The web-standard handler every request goes to. */
  readonly handler: (req: Request) => Promise<Response> | Response;
  /** Called for an error the handler did not turn into a response. */
  readonly onError: (err: unknown) => void;
  /** Serve HTTPS with these settings; plain HTTP when absent. */
  readonly tls?: TLSOptions;
  /**
   * Set SO_REUSEPORT, so that a second listener can take over the port before the
   * first stops (how new certificates are put in force without refusing anyone).
   */
  readonly reusePort?: boolean;
  /** Timeouts and the connection limit; {@linkcode defaultConnectionLimits} when absent. */
  readonly limits?: ConnectionLimits;
  /** Called for each connection closed at once because the limit was reached. */
  readonly onConnectionRefused?: () => void;
  /**
   * Which HTTP server serves (--web.server): "kit", the kit's own HTTP/1.1 server
   * (web/_http1.ts), which enforces every bound of `limits`, or "runtime", the
   * runtime's own where the adapter has one that can serve (Bun.serve; on Deno the
   * kit's, as Deno.serve can bound nothing; on Node node:http either way, as it
   * enforces the bounds itself). Absent: "runtime".
   */
  readonly server?: "runtime" | "kit";
}

/** A listening server. */
export interface Listener {
  /** The address it listens on, with the port the system picked for port 0. */
  readonly hostname: string;
  /** The port it listens on. */
  readonly port: number;
  /** Stops accepting connections and resolves when in-flight requests are done. */
  stop(): Promise<void>;
}

/** One adapter per runtime: Bun.serve, the kit's HTTP/1.1 server on Deno.listen, or node:http, and the runtime's signals. */
export interface Adapter {
  /** Starts serving `opts.handler` on `opts.hostname`:`opts.port`. */
  listen(opts: ListenOptions): Promise<Listener>;
  /**
   * Whether `reusePort` works together with `tls`, so that new certificates can be put
   * in force by a second listener before the first stops. Deno 2.9.6 allows that
   * only with --unstable-net (it exits otherwise); there the old listener stops first.
   */
  readonly reusePortWithTLS?: boolean;
  /**
   * The soft limit of open descriptors (`ulimit -n`), or undefined where it cannot be
   * read (Deno without --allow-all: it refuses /proc/self/limits to anything less).
   */
  descriptorLimit?(): number | undefined;
  /** Calls `fn` once for SIGTERM or SIGINT. */
  onShutdownSignal(fn: (signal: string) => void): void;
  /** The command-line arguments after the program. */
  args(): string[];
  /** An environment variable, or undefined when unset or not permitted. */
  getenv(name: string): string | undefined;
  /** Ends the process with `code`. */
  exit(code: number): never;
}

/** Loads the adapter for the runtime this process runs on. */
export async function adapter(): Promise<Adapter> {
  if ("Bun" in globalThis) return (await import("./_serve_bun.ts")).bunAdapter;
  if ("Deno" in globalThis) return (await import("./_serve_deno.ts")).denoAdapter;
  return (await import("./_serve_node.ts")).nodeAdapter;
}

/**
 * Calls `fn` once, for the first SIGTERM or SIGINT, whichever the runtime delivers
 * first; `listen` is the runtime's way to add a signal listener.
 */
export function onFirstShutdownSignal(
  listen: (signal: string, handler: () => void) => void,
  fn: (signal: string) => void,
): void {
  let fired = false;
  for (const sig of ["SIGTERM", "SIGINT"]) {
    listen(sig, () => {
      if (fired) return;
      fired = true;
      fn(sig);
    });
  }
}

/** The internal error page: a client never sees a stack trace. */
export function internalError(): Response {
  return new Response("Internal Server Error\n", {
    status: 500,
    headers: { "Content-Type": "text/plain; charset=utf-8" },
  });
}
