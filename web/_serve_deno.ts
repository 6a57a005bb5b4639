// The Deno adapter: the kit's HTTP/1.1 server (web/_http1.ts) on Deno.listen and
// Deno.listenTls, and Deno's signal listeners. Deno.serve is not used: it has no
// header-read or idle timeout, no connection limit, no way to close a connection whose
// client stopped reading, and its accept loop ends for good on EMFILE (RELIABILITY.md).
import type { Adapter, Listener, ListenOptions, TLSOptions } from "./adapter.ts";
import { onFirstShutdownSignal, parseOpenFilesLimit } from "./adapter.ts";
import { type ConnListener, Http1Server, serverOptions } from "./_http1.ts";
import { commandLine } from "./_command_line.ts";

type Addr = { hostname: string; port: number };
declare const Deno: {
  listen(o: { hostname: string; port: number; reusePort?: boolean }): ConnListener & { addr: Addr };
  listenTls(
    o: { hostname: string; port: number; cert: string; key: string; alpnProtocols: string[] },
  ): ConnListener & { addr: Addr };
  readTextFileSync(path: string): string;
  addSignalListener(sig: string, fn: () => void): void;
};

/**
 * Deno.listenTls is rustls with `cert` and `key` only: TLS 1.2 and 1.3, rustls' fixed
 * suites and groups, no client certificates. Anything more is refused here rather
 * than silently not enforced; web/capabilities.ts says so to the user first.
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
  if (cannot.length) throw new Error(`Deno.listenTls cannot enforce ${cannot.join(", ")}`);
  return { cert: t.cert, key: t.key };
}

/** At most one log line per this interval about running out of descriptors. */
const descriptorLogIntervalMs = 60_000;

export const denoAdapter: Adapter = {
  listen(o: ListenOptions): Promise<Listener> {
    let listener: ConnListener & { addr: Addr };
    try {
      listener = o.tls
        // Only HTTP/1.1 is offered (ALPN), as on Bun: this server speaks no HTTP/2.
        ? Deno.listenTls({ hostname: o.hostname, port: o.port, ...denoTLS(o.tls), alpnProtocols: ["http/1.1"] })
        : Deno.listen({ hostname: o.hostname, port: o.port, ...(o.reusePort ? { reusePort: true } : {}) });
    } catch (e) {
      return Promise.reject(e);
    }
    const { hostname, port } = listener.addr;
    let loggedAt = -Infinity, unlogged = 0;
    const server = new Http1Server(listener, {
      ...serverOptions(o, hostname, port),
      // Out of descriptors: the server keeps listening and accepts again once one of
      // its connections ends; said at most once a minute, with how often since.
      onAcceptError: (e, open, cap) => {
        unlogged++;
        if (performance.now() - loggedAt < descriptorLogIntervalMs) return;
        loggedAt = performance.now();
        o.onError(
          new Error(
            `accepting on ${hostname}:${port}: ${e instanceof Error ? e.message : e}; ${open} connection(s) open, ` +
              `at most ${cap} from now on; still listening (${unlogged} failed accept(s) since the last line)`,
          ),
        );
        unlogged = 0;
      },
    });
    return Promise.resolve({ hostname, port, stop: () => server.stop() });
  },
  descriptorLimit: () => {
    try {
      return parseOpenFilesLimit(Deno.readTextFileSync("/proc/self/limits"));
    } catch {
      return undefined; // not Linux, or not permitted (anything less than --allow-all)
    }
  },
  onShutdownSignal: (fn) => onFirstShutdownSignal((sig, h) => Deno.addSignalListener(sig, h), fn),
  // The same as parseFlags reads before any adapter is loaded.
  ...commandLine(),
};
