// The Node adapter: node:http / node:https, and process signals. The handler is the
// same web-standard Request -> Response as on Bun and Deno; this file translates
// Node's IncomingMessage into a Request and writes the Response back, streaming its
// body with backpressure.
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import process from "node:process";
import type { Adapter, Listener, ListenOptions, TLSOptions } from "./adapter.ts";
import { defaultConnectionLimits, internalError, onFirstShutdownSignal, parseOpenFilesLimit } from "./adapter.ts";
import { readFileSync } from "node:fs";
import { commandLine } from "./_command_line.ts";

/** Scrapes carry no body; larger ones are refused before they are buffered (as on Bun). */
const maxRequestBodyBytes = 64 * 1024;

/**
 * Node's defaults (60 s for headers, 300 s for the request, no limit on a client that
 * stops reading, 5 s of keep-alive) would let slow clients hold connections for
 * minutes and reconnect every scrape; the adapter takes the header timeout, the
 * keep-alive timeout and the connection limit from ListenOptions.limits
 * (--web.read-header-timeout, --web.idle-timeout, --web.max-connections). A client
 * has at least 15 s for the whole request (and no less than for its headers), and a
 * socket with no traffic for 30 s, one whose client stopped reading included, is
 * closed.
 */
const inactiveSocketMs = 30_000;
const requestTimeoutMs = 15_000;

const tlsVersionNames: Record<number, string> = {
  0x0301: "TLSv1",
  0x0302: "TLSv1.1",
  0x0303: "TLSv1.2",
  0x0304: "TLSv1.3",
};

function tlsVersion(wire: number): string {
  const name = tlsVersionNames[wire];
  if (!name) throw new Error(`unknown TLS version 0x${wire.toString(16)}`);
  return name;
}

/**
 * node:tls server options. Node takes TLS 1.3 suites (`TLS_…`) and older ones in one
 * `ciphers` string; TLSOptions.ciphers names only suites for TLS 1.2 and below (as
 * Go's cipher_suites), so Node's default TLS 1.3 suites are kept in front of them,
 * rather than turning TLS 1.3 off by leaving them out.
 */
async function nodeTLS(t: TLSOptions): Promise<Record<string, unknown>> {
  const { DEFAULT_CIPHERS } = await import("node:tls");
  const tls13 = DEFAULT_CIPHERS.split(":").filter((c) => c.startsWith("TLS_"));
  return {
    cert: t.cert,
    key: t.key,
    ...(t.clientCA !== undefined ? { ca: t.clientCA } : {}),
    requestCert: t.clientAuth !== "none",
    rejectUnauthorized: t.clientAuth === "require-and-verify",
    minVersion: tlsVersion(t.minVersion),
    maxVersion: tlsVersion(t.maxVersion),
    ...(t.ciphers !== undefined ? { ciphers: [...tls13, t.ciphers].join(":") } : {}),
    ...(t.curves !== undefined ? { ecdhCurve: t.curves } : {}),
  };
}

/** The request's URL from its Host header, or from the listening address when that is absent or invalid. */
function requestURL(req: IncomingMessage, scheme: string, fallbackHost: string): string {
  const path = req.url?.startsWith("/") ? req.url : "/";
  const host = req.headers.host;
  if (host) {
    try {
      return new URL(path, `${scheme}://${host}`).href;
    } catch { /* not a valid authority: use the listening address */ }
  }
  return new URL(path, `${scheme}://${fallbackHost}`).href;
}

function requestHeaders(req: IncomingMessage): Headers {
  const h = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      h.append(raw[i], raw[i + 1]);
    } catch { /* a header the Fetch API cannot hold: dropped, as no handler reads it */ }
  }
  return h;
}

/** The request body, or null when it is larger than maxRequestBodyBytes. */
async function readBody(req: IncomingMessage): Promise<Uint8Array<ArrayBuffer> | null> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > maxRequestBodyBytes) return null;
    chunks.push(chunk);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.length;
  }
  return body;
}

/** Resolves when `res` can take more data, or when the client has gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** Writes a web Response to Node's response: status, headers, then the body as it streams. */
async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status;
  if (response.statusText) res.statusMessage = response.statusText;
  const cookies = response.headers.getSetCookie();
  for (const [name, value] of response.headers) {
    if (name !== "set-cookie") res.setHeader(name, value);
  }
  if (cookies.length) res.setHeader("set-cookie", cookies);
  if (response.body === null) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  // A client that goes away mid-body cancels the stream, so that an encoder
  // producing it stops rather than running on for nobody.
  const onClose = () => {
    if (!res.writableFinished) reader.cancel().catch(() => {});
  };
  res.on("close", onClose);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) return;
      if (!res.write(value)) await drained(res);
    }
    res.end();
  } finally {
    res.off("close", onClose);
  }
}

export const nodeAdapter: Adapter = {
  // Node 20 has no SO_REUSEPORT for TCP servers (reusePort came in Node 22.12): a new
  // TLS listener can bind the port only after the old one has stopped.
  reusePortWithTLS: false,
  async listen(o: ListenOptions): Promise<Listener> {
    const http = await import("node:http");
    const limits = o.limits ?? defaultConnectionLimits;
    const options = {
      // How often Node checks the two timeouts below; its default, 30 s, would let a
      // slow client hold its connection up to 40 s instead of 10.
      connectionsCheckingInterval: 1_000,
      // 0 turns both off; else Node wants the request's bound at least the headers'.
      headersTimeout: limits.readHeaderTimeoutMs,
      requestTimeout: limits.readHeaderTimeoutMs && Math.max(requestTimeoutMs, limits.readHeaderTimeoutMs),
      keepAliveTimeout: limits.idleTimeoutMs,
    };
    let stopping = false;
    const scheme = o.tls ? "https" : "http";
    const fallbackHost = o.hostname.includes(":") ? `[${o.hostname}]:${o.port}` : `${o.hostname}:${o.port}`;
    const serve = async (req: IncomingMessage, res: ServerResponse) => {
      // Aborted when the client closes the connection before the response is done.
      const aborted = new AbortController();
      res.on("close", () => {
        if (!res.writableFinished) aborted.abort();
      });
      res.on("finish", () => {
        if (stopping) setImmediate(() => server.closeIdleConnections());
      });
      let request: Request;
      try {
        const method = req.method ?? "GET";
        let body: Uint8Array<ArrayBuffer> | undefined;
        if (method !== "GET" && method !== "HEAD") {
          const b = await readBody(req);
          if (b === null) {
            res.writeHead(413, { "Content-Type": "text/plain; charset=utf-8", Connection: "close" });
            res.end("Payload Too Large\n");
            return;
          }
          body = b;
        }
        request = new Request(requestURL(req, scheme, fallbackHost), {
          method,
          headers: requestHeaders(req),
          body,
          signal: aborted.signal,
        });
      } catch {
        // A method the Fetch API forbids (CONNECT, TRACE, TRACK) or a body cut short:
        // the client's fault, not worth an error line.
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(400, { "Content-Type": "text/plain; charset=utf-8", Connection: "close" });
          res.end("Bad Request\n");
        }
        return;
      }
      let response: Response;
      try {
        response = await o.handler(request);
      } catch (e) {
        o.onError(e);
        response = internalError();
      }
      // Stopping: this connection closes after its response instead of idling.
      if (stopping) res.shouldKeepAlive = false;
      try {
        await writeResponse(res, response);
      } catch (e) {
        // Headers are gone already: all that is left is to cut the connection, so
        // that the client sees a truncated response rather than a complete one.
        o.onError(e);
        res.destroy();
      }
    };
    const handle = (req: IncomingMessage, res: ServerResponse) => void serve(req, res);
    const server: Server = o.tls
      ? (await import("node:https")).createServer({ ...options, ...(await nodeTLS(o.tls)) }, handle)
      : http.createServer(options, handle);
    server.setTimeout(inactiveSocketMs, (socket) => socket.destroy());
    // Node closes connections beyond maxConnections itself and says so with "drop".
    if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections;
    server.on("drop", () => o.onConnectionRefused?.());
    server.on("clientError", (err: Error & { code?: string }, socket) => {
      // Malformed requests (400) and requests too slow to arrive (408): answered where
      // the socket still takes it, as Node's default does, then closed.
      if (!socket.writable || err.code === "ECONNRESET") return socket.destroy();
      const status = err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout" : "400 Bad Request";
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: o.hostname, port: o.port }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (e) => o.onError(e));
    const addr = server.address();
    let stopped: Promise<void> | undefined;
    return {
      hostname: o.hostname,
      port: typeof addr === "object" && addr !== null ? addr.port : o.port,
      // close() stops accepting and calls back when every connection has ended. Idle
      // keep-alive connections are closed now; those with a request in flight are
      // closed as soon as their response is written (see `stopping` above).
      stop: () =>
        stopped ??= new Promise<void>((resolve) => {
          stopping = true;
          server.close(() => resolve());
          server.closeIdleConnections();
        }),
    };
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
