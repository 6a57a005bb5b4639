// The Bun adapter: Bun.serve, or the kit's HTTP/1.1 server (web/_http1.ts) on
// Bun.listen (web/_http1_bun.ts) with --web.server=kit; and process signals. Bun.serve
// stays the default because it costs less CPU a scrape (measured: RELIABILITY.md, "What
// the runtimes do not let us fix"); the kit's server is for hostile networks.
import { readFileSync } from "node:fs";
import type { Adapter, Listener, ListenOptions, TLSOptions } from "./adapter.ts";
import { defaultConnectionLimits, internalError, onFirstShutdownSignal, parseOpenFilesLimit } from "./adapter.ts";
import { commandLine } from "./_command_line.ts";

/** What of Bun.serve's server the adapter uses. */
interface BunServer {
  hostname: string;
  port: number;
  stop(closeActive?: boolean): Promise<void>;
  /** The idle timeout, in seconds, of the connection `req` came on (0: none), from now on. */
  timeout(req: Request, seconds: number): void;
}

declare const Bun: {
  serve(o: unknown): BunServer;
};
declare const process: { on(sig: string, fn: () => void): void };

/** A timeout in ms as Bun.serve's idle timeouts take it: whole seconds, at most 255; 0 stays 0 (none). */
const bunSeconds = (ms: number) => Math.min(255, Math.ceil(ms / 1000));

/** uWebSockets' timer tick: Bun.serve's idle timeouts fire up to this many seconds off the value set. */
const uwsTickS = 4;

/**
 * What closes, on Bun.serve, the connection of a client that stopped reading its
 * response: the function returned, called as the response is returned. One event-loop turn
 * later, after Bun has written what the socket took, the connection's idle timeout
 * becomes the write timeout plus one uWS tick (server.timeout), so that promhttp's
 * write timeout has ended the body (and logged it) before the connection goes. Bun
 * ignores that call once a response is sent (measured on 1.4.5), so a connection kept
 * alive after a response written at once keeps `--web.idle-timeout`; one whose response
 * is still being written is closed after that long without progress (3 s: closed
 * 4–8 s after the client stopped reading), and keeps the shorter idle timeout if its
 * response does complete. Without it Bun keeps a non-reader's connection, and what is
 * left of its body, until the idle timeout, even after promhttp's write timeout errored
 * the body stream. Undefined when the idle timeout is as short.
 */
function stalledWrites(writeS: number, idleS: number): ((server: BunServer, req: Request) => void) | undefined {
  const cutS = Math.min(255, writeS + uwsTickS);
  if (writeS === 0 || (idleS !== 0 && cutS >= idleS)) return undefined;
  let due: [BunServer, Request][] = [];
  const check = () => {
    const batch = due;
    due = [];
    for (const [server, req] of batch) {
      try {
        server.timeout(req, cutS);
      } catch { /* the connection is gone */ }
    }
  };
  return (server, req) => {
    // One timer for the responses returned in the same turn.
    if (due.push([server, req]) === 1) setImmediate(check);
  };
}

/**
 * Bun.serve's `tls`, node:tls-style. Each field below was checked with real
 * handshakes (openssl s_client) on Bun 1.4.5, because Bun ignores options it does not
 * know without an error: minVersion/maxVersion must be the wire numbers (a string
 * throws), `ciphers` limits TLS 1.2 suites and leaves TLS 1.3's alone, `ecdhCurve`
 * limits the groups, and requestCert with rejectUnauthorized refuses a client without
 * a certificate ("certificate required") or with one from another CA.
 */
function bunTLS(t: TLSOptions): Record<string, unknown> {
  return {
    cert: t.cert,
    key: t.key,
    ...(t.clientCA !== undefined ? { ca: t.clientCA } : {}),
    requestCert: t.clientAuth !== "none",
    rejectUnauthorized: t.clientAuth === "require-and-verify",
    minVersion: t.minVersion,
    maxVersion: t.maxVersion,
    ...(t.ciphers !== undefined ? { ciphers: t.ciphers } : {}),
    ...(t.curves !== undefined ? { ecdhCurve: t.curves } : {}),
  };
}

/**
 * The kit's server on Bun.listen: the same TLS options (Bun.listen and Bun.serve share
 * them), only HTTP/1.1 offered by ALPN, and every bound of `o.limits` enforced.
 */
async function listenKit(o: ListenOptions): Promise<Listener> {
  // Loaded only for --web.server=kit: Bun.serve, the default, does not start with it.
  const [{ Http1Server, serverOptions }, { listenBun }] = await Promise.all([
    import("./_http1.ts"),
    import("./_http1_bun.ts"),
  ]);
  const listener = listenBun({
    hostname: o.hostname,
    port: o.port,
    ...(o.tls ? { tls: { ...bunTLS(o.tls), ALPNProtocols: "\x08http/1.1" } } : {}),
    ...(o.reusePort ? { reusePort: true } : {}),
  });
  const { hostname, port } = listener;
  const server = new Http1Server(listener, {
    ...serverOptions(o, hostname, port),
    // Bun.listen's accept (uSockets) does not fail to JavaScript: out of descriptors,
    // clients wait in the backlog until one is free. The limit keeps descriptors free.
  });
  return { hostname, port, stop: () => server.stop() };
}

export const bunAdapter: Adapter = {
  reusePortWithTLS: true,
  listen(o: ListenOptions): Promise<Listener> {
    if (o.server === "kit") return listenKit(o);
    const limits = o.limits ?? defaultConnectionLimits;
    const idleS = bunSeconds(limits.idleTimeoutMs);
    const stalled = stalledWrites(bunSeconds(limits.writeTimeoutMs), idleS);
    const server = Bun.serve({
      hostname: o.hostname,
      port: o.port,
      ...(o.tls ? { tls: bunTLS(o.tls) } : {}),
      ...(o.reusePort ? { reusePort: true } : {}),
      // Set explicitly: development mode would show error pages with stack traces.
      development: false,
      // Seconds a keep-alive connection may sit idle before Bun closes it (at most 255;
      // 0: never). What Bun.serve does not let the kit set (RELIABILITY.md): the header
      // timeout (uWebSockets closes a client that never finishes its headers after
      // ~10-12 s, whatever readHeaderTimeoutMs says) and a connection limit (no hook on
      // accept, and `pendingRequests` counts requests, not connections). A client that
      // stopped reading is closed by the idle timer too: see stalledWrites.
      idleTimeout: idleS,
      // Scrapes carry no body; refuse large ones before they are buffered.
      maxRequestBodySize: 64 * 1024,
      fetch: async (req: Request, srv: BunServer) => {
        try {
          const res = await o.handler(req);
          stalled?.(srv, req);
          return res;
        } catch (e) {
          o.onError(e);
          return internalError();
        }
      },
      error: (e: unknown) => {
        o.onError(e);
        return internalError();
      },
    });
    return Promise.resolve({
      hostname: server.hostname,
      port: server.port,
      // stop(false) stops accepting and resolves when in-flight requests are done.
      stop: () => server.stop(false),
    });
  },
  descriptorLimit: () => {
    try {
      return parseOpenFilesLimit(readFileSync("/proc/self/limits", "utf8"));
    } catch {
      return undefined; // not Linux
    }
  },
  onShutdownSignal: (fn) => onFirstShutdownSignal((sig, h) => process.on(sig, h), fn),
  // The same as parseFlags reads before any adapter is loaded.
  ...commandLine(),
};
