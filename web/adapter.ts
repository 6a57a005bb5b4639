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
  readonly maxVersion: number;
  /** OpenSSL cipher list for TLS 1.2 and below; undefined: the runtime's defaults. */
  readonly ciphers?: string;
  /** Key-exchange groups, OpenSSL style (`X25519:P-256`); undefined: the runtime's defaults. */
  readonly curves?: string;
}

/** What a runtime adapter needs to serve one address. */
export interface ListenOptions {
  readonly hostname: string;
  readonly port: number;
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
}

/** A listening server. */
export interface Listener {
  /** The address it listens on, with the port the system picked for port 0. */
  readonly hostname: string;
  readonly port: number;
  /** Stops accepting connections and resolves when in-flight requests are done. */
  stop(): Promise<void>;
}

/** One adapter per runtime: Bun.serve or Deno.serve, and the runtime's signals. */
export interface Adapter {
  listen(opts: ListenOptions): Promise<Listener>;
  /**
   * Whether `reusePort` works together with `tls`, so that new certificates can be put
   * in force by a second listener before the first stops. Deno 2.9.6 allows that
   * only with --unstable-net (it exits otherwise); there the old listener stops first.
   */
  readonly reusePortWithTLS?: boolean;
  /** Calls `fn` once for SIGTERM or SIGINT. */
  onShutdownSignal(fn: (signal: string) => void): void;
  /** The command-line arguments after the program. */
  args(): string[];
  /** An environment variable, or undefined when unset or not permitted. */
  getenv(name: string): string | undefined;
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
