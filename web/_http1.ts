// The kit's HTTP/1.1 server, over any byte-stream transport: Deno.listen /
// Deno.listenTls as they are (web/_serve_deno.ts), Bun.listen through
// web/_http1_bun.ts (web/_serve_bun.ts, --web.server=kit). Deno.serve and Bun.serve
// give no connection limit, no header-read timeout of the kit's choosing and no way
// to close one connection whose client stopped reading (RELIABILITY.md, "What the
// runtimes do not let us fix"), and Deno.serve's accept loop dies on EMFILE; this
// server owns its connections, so it can bound each of them. It speaks what a scraper needs: HTTP/1.1 and 1.0, keep-alive, HEAD, request
// bodies with Content-Length (small ones), responses with Content-Length when the body
// is known in full, chunked otherwise. Parsing is strict where a lenient parser in
// front of it could read a request differently (request smuggling): Content-Length
// together with Transfer-Encoding, a Content-Length that is not one number, obs-fold,
// whitespace before a header's colon and bare CR or LF are refused with 400.
//
// Private to web/: web/_serve_deno.ts and web/_serve_bun.ts (with web/_http1_bun.ts) use it.
import { defaultConnectionLimits, internalError, type ListenOptions } from "./adapter.ts";

/** A byte stream as Deno.Conn and Deno.TlsConn give it (web/_http1_bun.ts makes one of a Bun socket). */
export interface Conn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
  /** Shuts the sending side down (TCP FIN; TLS close_notify). */
  closeWrite?(): Promise<void>;
}

/** What accepts connections: Deno.Listener, web/_http1_bun.ts' listener, or anything shaped like them in tests. */
export interface ConnListener {
  accept(): Promise<Conn>;
  close(): void;
}

/**
 * The options of an adapter's server for `o`, served on `hostname`:`port`: its
 * connection limits, URLs with the listening address as authority, and the handler
 * with what it throws logged and answered 500.
 */
export function serverOptions(o: ListenOptions, hostname: string, port: number): Http1Options {
  return {
    ...(o.limits ?? defaultConnectionLimits),
    scheme: o.tls ? "https" : "http",
    authority: hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`,
    // What it throws or rejects with is logged and answered 500 by the connection.
    handler: o.handler,
    onError: o.onError,
    onRefused: o.onConnectionRefused,
  };
}

/** The bounds and callbacks of one server. Every timeout in ms; 0 means none. */
export interface Http1Options {
  readonly handler: (req: Request) => Promise<Response> | Response;
  /** An error of the handler or of a response body, not of the client's connection. */
  readonly onError: (err: unknown) => void;
  /** "http" or "https": the scheme of the URLs the handler sees. */
  readonly scheme: "http" | "https";
  /** The authority of those URLs: the listening address, never the client's Host. */
  readonly authority: string;
  /**
   * From accept (on a kept-alive connection, from the next request's first byte) to
   * the end of the request's header and body.
   */
  readonly readHeaderTimeoutMs: number;
  /** How long a keep-alive connection may wait for its next request. */
  readonly idleTimeoutMs: number;
  /** From the end of the request to the end of the response; the connection is closed when it passes. */
  readonly writeTimeoutMs: number;
  /**
   * Open connections at most: beyond it a connection not being answered is closed to
   * make room (an idle one first), else the new one is closed at once. 0: no limit.
   */
  readonly maxConnections: number;
  /**
   * Called for each connection closed because `maxConnections` were open: a new one
   * refused, or an older one closed to make room for it.
   */
  readonly onRefused?: () => void;
  /**
   * Called when accept fails for want of descriptors (EMFILE, ENFILE), with the
   * connections open then; the server waits a moment and accepts again.
   */
  readonly onAcceptError?: (err: unknown, open: number, maxConnections: number) => void;
}

/** The largest request head (request line and headers) read; larger gets 431. */
export const maxHeaderBytes = 16 * 1024;
/** Header fields at most; more gets 431. */
const maxHeaderFields = 100;
/** Request bodies at most (scrapes carry none); larger gets 413, as Bun refuses them. */
export const maxBodyBytes = 64 * 1024;
/** How long, and how many bytes, a refused request's remaining input is read and dropped. */
const lingerMs = 1_000, lingerBytes = 256 * 1024;
/** How long accept waits after running out of descriptors. */
const acceptBackoffMs = 100;

const reasons: Record<number, string> = {
  200: "OK",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  408: "Request Timeout",
  411: "Length Required",
  413: "Content Too Large",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

/** A request head as parsed, or the status to refuse it with. */
export interface Head {
  readonly method: string;
  readonly target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly minor: 0 | 1;
  /** Header fields in order, names as sent. */
  readonly fields: [string, string][];
  readonly contentLength: number;
  readonly keepAlive: boolean;
}

/** Per byte: 1 where a token (RFC 9110: a method, a header name) may have it, 2 where a field value may. */
const byteClass = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  byteClass[c.charCodeAt(0)] = 1;
}
// Field values: visible ASCII, obs-text (0x80-0xFF), space and tab; no other control.
for (let c = 0; c < 256; c++) if (c === 9 || (c >= 0x20 && c !== 0x7f)) byteClass[c] |= 2;

/** Whether `s` (one code unit a byte) is a token: one or more bytes of class 1. */
function isToken(s: string): boolean {
  for (let i = 0; i < s.length; i++) if ((byteClass[s.charCodeAt(i)] & 1) === 0) return false;
  return s.length > 0;
}

/** Bytes as a string of the same code units (ISO-8859-1): how HTTP headers are carried. */
function latin1(b: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i += 4096) {
    s += String.fromCharCode.apply(null, b.subarray(i, Math.min(to, i + 4096)) as unknown as number[]);
  }
  return s;
}

/**
 * Parses the head in `b[0, end)` (without the final CRLF CRLF). Returns the head, or
 * the status and reason to refuse it with. The header fields are checked on the bytes,
 * one pass each, and only their names and values made strings: with a regex or two per
 * field this took 2.6 µs of wrk's two-line head and 4.7 µs of Prometheus' six (Deno 2.9).
 */
export function parseHead(b: Uint8Array, end: number): Head | { status: number; why: string } {
  // A CR only before an LF, an LF only after a CR; the lines are counted on the way.
  let lineEnds = 0;
  for (let i = 0; i < end; i++) {
    const c = b[i];
    if (c === 13) {
      if (i + 1 >= end || b[i + 1] !== 10) return { status: 400, why: "bare CR or LF" };
      lineEnds++;
    } else if (c === 10 && (i === 0 || b[i - 1] !== 13)) return { status: 400, why: "bare CR or LF" };
  }
  const text = latin1(b, 0, end);
  let eol = text.indexOf("\r");
  if (eol < 0) eol = end;
  const requestLine = text.slice(0, eol);
  const rl = /^([^ ]+) ([^ ]+) HTTP\/1\.([01])$/.exec(requestLine);
  if (!rl) {
    return /^[^ ]+ [^ ]+ HTTP\/\d\.\d$/.test(requestLine)
      ? { status: 505, why: "HTTP version" }
      : { status: 400, why: "malformed request line" };
  }
  const [, method, target] = rl;
  const minor = rl[3] === "1" ? 1 : 0;
  if (!isToken(method)) return { status: 400, why: "malformed method" };
  if (lineEnds > maxHeaderFields) return { status: 431, why: "too many header fields" };
  const fields: [string, string][] = [];
  let hosts = 0, te = false, cl: string | undefined, conn = "";
  for (let from = eol + 2; from < end + 2; from = eol + 2) {
    eol = from < end ? text.indexOf("\r", from) : -1;
    if (eol < 0) eol = end;
    if (from < eol && (b[from] === 0x20 || b[from] === 9)) return { status: 400, why: "obs-fold" };
    let colon = from;
    while (colon < eol && b[colon] !== 0x3a) colon++;
    if (colon === eol || colon === from) return { status: 400, why: "malformed header field" };
    for (let i = from; i < colon; i++) {
      // Also "Name :" (RFC 9112 5.1).
      if ((byteClass[b[i]] & 1) === 0) return { status: 400, why: "malformed header name" };
    }
    let vFrom = colon + 1, vTo = eol;
    while (vFrom < vTo && (b[vFrom] === 0x20 || b[vFrom] === 9)) vFrom++;
    while (vTo > vFrom && (b[vTo - 1] === 0x20 || b[vTo - 1] === 9)) vTo--;
    for (let i = vFrom; i < vTo; i++) {
      if ((byteClass[b[i]] & 2) === 0) return { status: 400, why: "control character in a header value" };
    }
    const name = text.slice(from, colon), value = text.slice(vFrom, vTo);
    // Only a name of one of these lengths can be one of these names.
    const n = colon - from;
    if (n === 4 || n === 10 || n === 14 || n === 17) {
      const lower = name.toLowerCase();
      if (lower === "host") hosts++;
      else if (lower === "transfer-encoding") te = true;
      else if (lower === "content-length") {
        // One decimal number; a list or a repeat, even of the same value, is refused.
        if (cl !== undefined || !/^\d{1,15}$/.test(value)) return { status: 400, why: "bad Content-Length" };
        cl = value;
      } else if (lower === "connection") conn += "," + value.toLowerCase();
    }
    fields.push([name, value]);
  }
  if (te && cl !== undefined) return { status: 400, why: "both Content-Length and Transfer-Encoding" };
  // A body of unknown length is refused rather than read; scrapes carry none.
  if (te) return { status: minor === 1 ? 411 : 400, why: "Transfer-Encoding" };
  if (hosts > 1 || (minor === 1 && hosts === 0)) return { status: 400, why: "Host header missing or repeated" };
  const contentLength = cl === undefined ? 0 : Number(cl);
  if (contentLength > maxBodyBytes) return { status: 413, why: "request body too large" };
  let keepAlive = minor === 1;
  if (conn !== "") {
    const opts = conn.split(",").map((s) => s.trim());
    keepAlive = minor === 1 ? !opts.includes("close") : opts.includes("keep-alive");
  }
  return { method, target, minor, fields, contentLength, keepAlive };
}

/** The path and query of a request target: origin-form, or absolute-form with its authority dropped. */
export function pathOf(target: string): string | undefined {
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return undefined;
  }
  if (target.startsWith("/")) return target;
  if (/^https?:\/\//i.test(target)) {
    try {
      const u = new URL(target);
      return u.pathname + u.search;
    } catch {
      return undefined;
    }
  }
  return undefined; // "*" and authority-form: nothing here answers them
}

function indexOfHeadEnd(b: Uint8Array, from: number, to: number): number {
  for (let i = Math.max(3, from); i < to; i++) {
    if (b[i] === 10 && b[i - 1] === 13 && b[i - 2] === 10 && b[i - 3] === 13) return i - 3;
  }
  return -1;
}

const enc = new TextEncoder();
const crlf = enc.encode("\r\n");
const lastChunk = enc.encode("0\r\n\r\n");
let dateSecond = 0, dateHeader = "";
/** The Date header, formatted once a second. */
function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateHeader = new Date(now).toUTCString();
  }
  return dateHeader;
}

const hopByHop = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "upgrade", "date"]);

/** Descriptors left to the process when running out of them lowers the connection limit. */
const learnedHeadroom = 32;

/**
 * The mark of a Response whose body was given as one complete Uint8Array (promhttp/_body.ts,
 * wholeBodyMark, the same registered symbol): taken with `res.bytes()`, which hands over
 * the bytes the Response holds, where `res.body` would first wrap them in a stream.
 */
const wholeBodyMark = Symbol.for("ts-exporter-kit.http1.wholeBody");
const piecesInOrderMark = Symbol.for("ts-exporter-kit.http1.piecesWrittenInOrder");

/**
 * Marks a request as served by this server, which writes each piece of a streamed body
 * before it reads the next (#answer): promhttp can then reuse a large body's buffer
 * once its stream ended (promhttp/_body.ts, piecesInOrderMark, the same registered symbol).
 */
function markPiecesInOrder(req: Request): void {
  (req as unknown as Record<symbol, boolean>)[piecesInOrderMark] = true;
}

/**
 * The handler's Request. A GET (every scrape) is made of the URL alone, its header
 * fields appended to the Request's own Headers: no init dictionary to convert, which
 * costs more than the fields (a GET with wrk's one field 3.9 -> 3.0 µs on Deno and
 * 0.90 -> 0.30 µs on Bun, with Prometheus' five 4.9 -> 3.4 and 1.4 -> 0.69 µs, in a
 * loop). Other methods take an init, with the fields as the parsed pairs, which Deno's
 * Fetch API takes at about a third of the cost of a Headers object filled field by
 * field. The headers come out the same either way (same names, order and combined
 * values on both runtimes), and every pair passed parseHead, whose name and value
 * rules are stricter than the Fetch API's. Throws for a method the Fetch API forbids
 * (CONNECT, TRACE, TRACK).
 */
function newRequest(url: string, head: Head, body: Uint8Array | null): Request {
  const fields = head.fields;
  if (head.method === "GET") {
    const req = new Request(url), h = req.headers;
    for (let i = 0; i < fields.length; i++) h.append(fields[i][0], fields[i][1]);
    return req;
  }
  return new Request(url, {
    method: head.method,
    headers: fields,
    ...(body && head.method !== "HEAD" ? { body: body as Uint8Array<ArrayBuffer> } : {}),
  });
}

/** A running server: its open connections, and how to stop it. */
export class Http1Server {
  #open = new Set<Connection>();
  #stopping = false;
  #max: number;
  readonly #done: Promise<void>;

  constructor(private readonly listener: ConnListener, private readonly o: Http1Options) {
    this.#max = o.maxConnections;
    this.#done = this.#acceptLoop();
  }

  /** Connections open now. */
  get connections(): number {
    return this.#open.size;
  }

  /** The connection limit in force: the option, or lower once descriptors ran out. */
  get maxConnections(): number {
    return this.#max;
  }

  async #acceptLoop(): Promise<void> {
    while (!this.#stopping) {
      let conn: Conn;
      try {
        conn = await this.listener.accept();
      } catch (e) {
        if (this.#stopping) return;
        if (e instanceof Error && (e.name === "BadResource" || e.name === "Interrupted")) return; // closed
        const code = (e as { code?: string }).code;
        if (code === "EMFILE" || code === "ENFILE") {
          // Out of descriptors (the limit could not be read at start, or something
          // else holds them): the client waits in the backlog. Keep that many
          // connections fewer than now from here on, so that the process keeps
          // descriptors for itself, and make room at once where connections can go.
          // (With no more connections than that, the descriptors are held elsewhere:
          // fewer connections would not help.)
          const lower = this.#open.size - learnedHeadroom;
          if (lower > 0 && (this.#max === 0 || lower < this.#max)) this.#max = lower;
          for (let n = this.#open.size - this.#max; n > 0 && this.#evict(); n--);
        }
        this.o.onAcceptError?.(e, this.#open.size, this.#max);
        await new Promise((r) => setTimeout(r, acceptBackoffMs));
        continue;
      }
      if (this.#max > 0 && this.#open.size >= this.#max && !this.#evict()) {
        try {
          conn.close();
        } catch { /* already gone */ }
        this.o.onRefused?.();
        continue;
      }
      const c = new Connection(conn, this.o, () => this.#stopping);
      this.#open.add(c);
      c.serve().catch((e) => this.o.onError(e)).finally(() => this.#open.delete(c));
    }
  }

  /**
   * At the limit, a connection that is not being answered makes room for a new one:
   * first a kept-alive one waiting for its next request (its client reconnects when it
   * needs to), else the longest-open one still sending its request — during a flood of
   * slow-header clients that is almost surely one of them, whereas a scraper sends its
   * request at once. A connection whose request is being answered is never closed for
   * another; when all are, the new one is refused. Counted as refused either way.
   */
  #evict(): boolean {
    let victim: Connection | undefined;
    for (const c of this.#open) {
      if (c.idle) {
        victim = c;
        break;
      }
      victim ??= c.busy ? undefined : c;
    }
    if (!victim) return false;
    victim.close();
    this.#open.delete(victim);
    this.o.onRefused?.();
    return true;
  }

  /**
   * Stops accepting, closes connections waiting for a request and resolves when the
   * requests being answered are done (their connections close after the response).
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    try {
      this.listener.close();
    } catch { /* already closed */ }
    await this.#done.catch(() => {});
    for (const c of this.#open) c.closeIfIdle();
    await Promise.all([...this.#open].map((c) => c.ended));
  }
}

/** One client connection: requests read and answered one after the other. */
class Connection {
  #buf = new Uint8Array(4096);
  #len = 0;
  #closed = false;
  /** Its request is being answered. */
  busy = false;
  /** Kept alive and waiting for the next request, nothing of it read yet. */
  idle = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #end!: () => void;
  readonly ended = new Promise<void>((r) => this.#end = r);

  constructor(
    private readonly conn: Conn,
    private readonly o: Http1Options,
    private readonly stopping: () => boolean,
  ) {}

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  closeIfIdle(): void {
    if (!this.busy) this.close();
  }

  /** When the connection is closed (performance.now()), unless moved first; Infinity: never. */
  #closeAt = Infinity;
  /** When the pending timer fires; Infinity when there is none. */
  #timerAt = Infinity;

  /**
   * Closes the connection after `ms` unless moved or cleared first; 0 means never. A
   * request moves its deadline four times: one timer serves them all, and is re-armed
   * for the rest when it fires early, instead of a timer set and cleared at each move.
   */
  #deadline(ms: number): void {
    this.#closeAt = ms > 0 ? performance.now() + ms : Infinity;
    if (this.#closeAt < this.#timerAt) this.#arm();
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timerAt = this.#closeAt;
    this.#timer = this.#closeAt === Infinity
      ? undefined
      : setTimeout(this.#fire, Math.max(0, this.#closeAt - performance.now()));
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    if (performance.now() >= this.#closeAt) this.close();
    else this.#arm();
  };

  /** Reads more bytes into the buffer; false when the client is gone or the connection closed. */
  async #fill(): Promise<boolean> {
    if (this.#len === this.#buf.length) {
      const grown = new Uint8Array(Math.min(this.#buf.length * 2, maxHeaderBytes + maxBodyBytes + 4));
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    let n: number | null;
    try {
      n = await this.conn.read(this.#buf.subarray(this.#len));
    } catch {
      return false;
    }
    if (n === null || this.#closed) return false;
    this.#len += n;
    return true;
  }

  async serve(): Promise<void> {
    try {
      let first = true;
      while (!this.#closed) {
        // Idle until the next request's first byte (a new connection has no idle
        // time: its header timeout runs from accept), then the header timeout.
        if (this.#len === 0 && !first) {
          if (this.stopping()) break;
          this.#deadline(this.o.idleTimeoutMs);
          this.idle = true;
          const more = await this.#fill();
          this.idle = false;
          if (!more) break;
        }
        first = false;
        this.#deadline(this.o.readHeaderTimeoutMs);
        let end = indexOfHeadEnd(this.#buf, 0, this.#len);
        while (end < 0 && this.#len <= maxHeaderBytes) {
          const before = this.#len;
          if (!(await this.#fill())) return;
          end = indexOfHeadEnd(this.#buf, before - 3, this.#len);
        }
        if (end < 0 || end > maxHeaderBytes) {
          await this.#refuse(431, 1);
          break;
        }
        const head = parseHead(this.#buf, end);
        if ("status" in head) {
          await this.#refuse(head.status, 1);
          break;
        }
        let consumed = end + 4;
        while (this.#len < consumed + head.contentLength) {
          if (!(await this.#fill())) return;
        }
        const body = head.contentLength > 0 ? this.#buf.slice(consumed, consumed + head.contentLength) : null;
        consumed += head.contentLength;
        this.#buf.copyWithin(0, consumed, this.#len);
        this.#len -= consumed;
        const path = pathOf(head.target);
        if (path === undefined) {
          await this.#refuse(400, head.minor);
          break;
        }
        this.busy = true;
        this.#deadline(0);
        const keep = await this.#answer(head, path, body);
        this.busy = false;
        if (!keep || this.stopping()) break;
      }
    } finally {
      this.close();
      this.#end();
    }
  }

  /** Answers a request the parser refused, and the connection is closed after. */
  async #refuse(status: number, minor: 0 | 1): Promise<void> {
    const text = `${reasons[status] ?? "Error"}\n`;
    const head = `HTTP/1.${minor} ${status} ${reasons[status] ?? "Error"}\r\nDate: ${httpDate()}\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nContent-Length: ${text.length}\r\nConnection: close\r\n\r\n${text}`;
    this.#deadline(this.o.writeTimeoutMs || 5_000);
    try {
      await this.#write(enc.encode(head));
      // Closing with unread input makes the kernel send a reset, which can destroy the
      // answer before the client reads it: stop writing, then read and drop what the
      // client still sends, for a bounded time and amount (as Go's server does).
      await this.conn.closeWrite?.();
      this.#deadline(lingerMs);
      for (let dropped = 0; dropped < lingerBytes;) {
        this.#len = 0;
        if (!(await this.#fill())) break;
        dropped += this.#len;
      }
    } catch { /* the client is gone */ }
  }

  async #write(b: Uint8Array): Promise<void> {
    for (let off = 0; off < b.length;) {
      if (this.#closed) throw new Error("connection closed");
      off += await this.conn.write(off ? b.subarray(off) : b);
    }
  }

  /** Writes a response head and the body that follows it, if any, in one write. */
  async #writeWhole(head: Uint8Array, body: Uint8Array | undefined): Promise<void> {
    if (body === undefined || body.length === 0) return await this.#write(head);
    const all = new Uint8Array(head.length + body.length);
    all.set(head);
    all.set(body, head.length);
    await this.#write(all);
  }

  /** Runs the handler and writes its response; whether the connection may be kept. */
  async #answer(head: Head, path: string, body: Uint8Array | null): Promise<boolean> {
    let req: Request;
    try {
      req = newRequest(`${this.o.scheme}://${this.o.authority}${path}`, head, body);
    } catch {
      // A method the Fetch API forbids (CONNECT, TRACE, TRACK): the client's fault.
      await this.#refuse(400, head.minor);
      return false;
    }
    markPiecesInOrder(req);
    let res: Response;
    try {
      res = await this.o.handler(req);
    } catch (e) {
      this.o.onError(e);
      res = internalError();
    }
    if (this.#closed) {
      await res.body?.cancel().catch(() => {});
      return false;
    }
    // The write timeout runs from here: a client that does not take the response in
    // time loses its connection, which also ends a write the socket is stuck in.
    this.#deadline(this.o.writeTimeoutMs);
    let keepAlive = head.keepAlive && !this.stopping() && res.headers.get("connection")?.toLowerCase() !== "close";
    const noBody = head.method === "HEAD" || res.status === 204 || res.status === 304 || res.status < 200;
    const bodiless = res.status === 204 || res.status === 304 || res.status < 200; // no framing header either
    let base = `HTTP/1.${head.minor} ${res.status} ${
      res.statusText || reasons[res.status] || "Status"
    }\r\nDate: ${httpDate()}\r\n`;
    // forEach gives what the iterator does (names lower-cased and sorted, repeats
    // combined, Set-Cookie apart) at a quarter of its cost on Deno (0.5 vs 1.9 µs for
    // a scrape's two fields, in a loop), which makes a result object per field.
    res.headers.forEach((v, k) => {
      if (!hopByHop.has(k)) base += `${k}: ${v}\r\n`;
    });
    const headBytes = (framing: string) =>
      enc.encode(
        base + framing + (!keepAlive ? "Connection: close\r\n" : head.minor === 0 ? "Connection: keep-alive\r\n" : "") +
          "\r\n",
      );
    if ((res as unknown as Record<symbol, unknown>)[wholeBodyMark] === true && !res.bodyUsed) {
      try {
        const bytes = await res.bytes();
        await this.#writeWhole(
          headBytes(bodiless ? "" : `Content-Length: ${bytes.length}\r\n`),
          noBody ? undefined : bytes,
        );
        return keepAlive;
      } catch {
        return false; // the client went away, or the write timeout closed the connection
      } finally {
        this.#deadline(0);
      }
    }
    const reader = res.body?.getReader();
    if (!reader) {
      // HEAD without a body from the handler: the length of the GET is not known here,
      // so none is claimed.
      await this.#write(headBytes(bodiless || head.method === "HEAD" ? "" : "Content-Length: 0\r\n"));
      return keepAlive;
    }
    // A body that errors (the write timeout of promhttp's streamed bodies) closes the
    // connection at once, so that a write waiting on a client that does not read ends.
    reader.closed.catch(() => this.close());
    try {
      // Two reads tell a body known in full (one chunk, then the end: Content-Length)
      // from a stream (chunked; for HTTP/1.0, until the connection closes).
      const a = await reader.read();
      const b = a.done ? a : await reader.read();
      if (b.done) {
        const bytes = a.done ? new Uint8Array(0) : a.value;
        await this.#writeWhole(
          headBytes(bodiless ? "" : `Content-Length: ${bytes.length}\r\n`),
          noBody ? undefined : bytes,
        );
        return keepAlive;
      }
      if (noBody) {
        await reader.cancel();
        await this.#write(headBytes(""));
        return keepAlive;
      }
      const chunked = head.minor === 1;
      if (!chunked) keepAlive = false;
      await this.#write(headBytes(chunked ? "Transfer-Encoding: chunked\r\n" : ""));
      for (let r: typeof a = a; !r.done; r = r === a ? b : await reader.read()) {
        if (r.value.length === 0) continue;
        if (chunked) await this.#write(enc.encode(r.value.length.toString(16) + "\r\n"));
        await this.#write(r.value);
        if (chunked) await this.#write(crlf);
      }
      if (chunked) await this.#write(lastChunk);
      return keepAlive;
    } catch {
      // The client went away, the write timeout closed the connection, or the body
      // failed (promhttp's write timeout, which it logs): the connection cannot carry
      // another response.
      await reader.cancel().catch(() => {});
      return false;
    } finally {
      this.#deadline(0);
    }
  }
}
