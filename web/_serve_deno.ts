// The Deno adapter: Deno.serve and Deno's signal listeners.
import type { Adapter, Listener, ListenOptions, TLSOptions } from "./adapter.ts";
import { internalError, onFirstShutdownSignal } from "./adapter.ts";

declare const Deno: {
  serve(
    o: unknown,
    h: (req: Request) => Promise<Response>,
  ): { addr: { hostname: string; port: number }; shutdown(): Promise<void>; finished: Promise<void> };
  addSignalListener(sig: string, fn: () => void): void;
  args: string[];
  env: { get(name: string): string | undefined };
  exit(code: number): never;
};

/**
 * Deno.serve's TLS is rustls with `cert` and `key` only: TLS 1.2 and 1.3, rustls'
 * fixed suites and groups, no client certificates. It ignores options it does not
 * know without an error (requestCert, ca, minVersion: a client without a certificate
 * still got 200 over TLS 1.2 in the experiment on Deno 2.9.6), so anything more is
 * refused here rather than silently not enforced; web/capabilities.ts says so to the
 * user first.
 */
function denoTLS(t: TLSOptions): { cert: string; key: string } {
  const cannot = [
    t.clientAuth !== "none" && "client certificates",
    t.clientCA !== undefined && "a client CA",
    t.minVersion > 0x0303 && "a minimum version above TLS 1.2",
    t.maxVersion < 0x0304 && "a maximum version below TLS 1.3",
    t.ciphers !== undefined && "cipher suites",
    t.curves !== undefined && "curve preferences",
  ].filter(Boolean);
  if (cannot.length) throw new Error(`Deno.serve cannot enforce ${cannot.join(", ")}`);
  return { cert: t.cert, key: t.key };
}

/** How long a listener that died of descriptor exhaustion waits before listening again. */
const relistenDelayMs = 250;
/** At most one log line per this interval about listeners that died and came back. */
const relistenLogIntervalMs = 60_000;

type DenoServer = { addr: { hostname: string; port: number }; shutdown(): Promise<void>; finished: Promise<void> };

export const denoAdapter: Adapter = {
  listen(o: ListenOptions): Promise<Listener> {
    const serve = (hostname: string, port: number): DenoServer =>
      Deno.serve({
        hostname,
        port,
        ...(o.tls ? denoTLS(o.tls) : {}),
        ...(o.reusePort ? { reusePort: true } : {}),
        onListen: () => {}, // main logs its own line
        onError: (e: unknown) => {
          o.onError(e);
          return internalError();
        },
      }, async (req: Request) => {
        try {
          return await o.handler(req);
        } catch (e) {
          o.onError(e);
          return internalError();
        }
      });
    let server: DenoServer;
    try {
      server = serve(o.hostname, o.port);
    } catch (e) {
      return Promise.reject(e);
    }
    const { hostname, port } = server.addr;
    let stopping = false, died = 0, loggedAt = -Infinity;
    // Deno.serve's accept loop ends when accept() fails, e.g. with EMFILE once clients
    // hold every descriptor, and rejects `finished` (unhandled, that rejection was the
    // process' "Uncaught (in promise) Http: Error: Too many open files" exit). The
    // server has closed its connections by then, so the descriptors are free again:
    // listen anew on the same address, and say so at most once a minute.
    const watch = (s: DenoServer): void => {
      s.finished.catch(async (e: unknown) => {
        if (stopping) return;
        died++;
        if (performance.now() - loggedAt >= relistenLogIntervalMs) {
          loggedAt = performance.now();
          o.onError(new Error(`listener on ${hostname}:${port} stopped (${e instanceof Error ? e.message : e}); listening again, its connections were closed (${died} time(s) so far)`));
        }
        for (;;) {
          await new Promise((r) => setTimeout(r, relistenDelayMs));
          if (stopping) return;
          try {
            server = serve(hostname, port);
            watch(server);
            return;
          } catch {
            // Still no descriptor (or the port is briefly taken): try again.
          }
        }
      });
    };
    watch(server);
    return Promise.resolve({
      hostname,
      port,
      // shutdown() stops accepting and resolves when in-flight requests are done.
      stop: () => {
        stopping = true;
        return server.shutdown();
      },
    });
  },
  onShutdownSignal: (fn) => onFirstShutdownSignal((sig, h) => Deno.addSignalListener(sig, h), fn),
  args: () => Deno.args,
  getenv: (name) => {
    try {
      return Deno.env.get(name);
    } catch {
      return undefined; // not permitted by --allow-env: the flag's default applies
    }
  },
  exit: (code) => Deno.exit(code),
};
