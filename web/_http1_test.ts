// The kit's HTTP/1.1 server (web/_http1.ts), driven through in-memory
// connections, so that it runs the same under `bun test` and `deno test`: parsing and
// its refusals (request smuggling), keep-alive and framing, and each bound — header
// timeout, idle timeout, write timeout, connection limit, running out of descriptors.
// Over real sockets on Deno it is tested by web/tls_test.ts, web/guard_test.ts and the
// reliability suites.
import { describe, expect, test } from "bun:test";
import { prng } from "../testing/http.ts";
import { sleep } from "../testing/process.ts";
import { http1Options, until } from "./testdata/http1.ts";
import {
  type Conn,
  type ConnListener,
  type Http1Options,
  Http1Server,
  maxHeaderBytes,
  parseHead,
  pathOf,
} from "./_http1.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** One end of an in-memory connection: the test writes the request and reads what the server wrote. */
class FakeConn implements Conn {
  #in: Uint8Array[] = [];
  #eof = false;
  #wake: (() => void) | undefined;
  out = "";
  closed = false;
  closedAt = NaN;
  /** While set, writes wait (a client that does not read) until the connection is closed. */
  stallWrites = false;
  #stalled: ((e: Error) => void)[] = [];

  send(text: string | Uint8Array): void {
    this.#in.push(typeof text === "string" ? enc.encode(text) : text);
    this.#wake?.();
  }
  end(): void {
    this.#eof = true;
    this.#wake?.();
  }
  async read(p: Uint8Array): Promise<number | null> {
    while (!this.#in.length && !this.#eof && !this.closed) await new Promise<void>((r) => this.#wake = r);
    if (this.closed) throw Object.assign(new Error("closed"), { name: "BadResource" });
    if (!this.#in.length) return null;
    const b = this.#in[0];
    const n = Math.min(p.length, b.length);
    p.set(b.subarray(0, n));
    if (n === b.length) this.#in.shift();
    else this.#in[0] = b.subarray(n);
    return n;
  }
  write(p: Uint8Array): Promise<number> {
    if (this.closed) return Promise.reject(new Error("closed"));
    if (this.stallWrites) return new Promise((_, reject) => this.#stalled.push(reject));
    this.out += dec.decode(p);
    return Promise.resolve(p.length);
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closedAt = performance.now();
    this.#wake?.();
    for (const r of this.#stalled.splice(0)) r(new Error("closed"));
  }
}

/** A listener the test hands connections to; `failNext` makes accept fail as with EMFILE. */
class FakeListener implements ConnListener {
  #queue: Conn[] = [];
  #wake: (() => void) | undefined;
  #closed = false;
  failNext = 0;
  connect(): FakeConn {
    const c = new FakeConn();
    this.#queue.push(c);
    this.#wake?.();
    return c;
  }
  async accept(): Promise<Conn> {
    for (;;) {
      if (this.#closed) throw Object.assign(new Error("listener closed"), { name: "BadResource" });
      if (this.failNext > 0 && this.#queue.length) {
        this.failNext--;
        throw Object.assign(new Error("Too many open files (os error 24)"), { code: "EMFILE" });
      }
      const c = this.#queue.shift();
      if (c) return c;
      await new Promise<void>((r) => this.#wake = r);
    }
  }
  close(): void {
    this.#closed = true;
    this.#wake?.();
  }
}

const hello = () => new Response("hello\n", { headers: { "Content-Type": "text/plain" } });

function server(opts: Partial<Http1Options> = {}) {
  const l = new FakeListener();
  const seen: Request[] = [];
  const errors: unknown[] = [];
  const s = new Http1Server(
    l,
    http1Options(
      (req) => {
        seen.push(req);
        return hello();
      },
      errors,
      opts,
    ),
  );
  return { l, s, seen, errors };
}

describe("parseHead", () => {
  const head = (text: string) => {
    const b = enc.encode(text);
    return parseHead(b, b.length);
  };
  const cases: [string, string, number | "ok"][] = [
    ["a plain GET", "GET /metrics HTTP/1.1\r\nHost: a", "ok"],
    ["HTTP/1.0 without Host", "GET / HTTP/1.0", "ok"],
    ["HTTP/1.1 without Host", "GET / HTTP/1.1", 400],
    ["two Host headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: b", 400],
    [
      "Content-Length and Transfer-Encoding",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked",
      400,
    ],
    ["Transfer-Encoding alone", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked", 411],
    ["two Content-Lengths, same value", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3", 400],
    ["a Content-Length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3", 400],
    ["a signed Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3", 400],
    ["a Content-Length over the body limit", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10485760", 413],
    ["obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c", 400],
    ["whitespace before the colon", "GET / HTTP/1.1\r\nHost : a", 400],
    ["a bare LF inside a line", "GET / HTTP/1.1\r\nHost: a\nX: y", 400],
    ["a bare CR", "GET / HTTP/1.1\r\nHost: a\rX: y", 400],
    ["a NUL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b", 400],
    ["HTTP/2.0 request line", "GET / HTTP/2.0\r\nHost: a", 505],
    ["no version", "GET /", 400],
    ["two spaces", "GET  / HTTP/1.1\r\nHost: a", 400],
    ["a bad method", "G(T / HTTP/1.1\r\nHost: a", 400],
    ["an empty field line", "GET / HTTP/1.1\r\nHost: a\r\n", 400],
    ["a CR ending the head", "GET / HTTP/1.1\r\nHost: a\r", 400],
    ["an LF starting the head", "\nGET / HTTP/1.1\r\nHost: a", 400],
    ["a field with no name", "GET / HTTP/1.1\r\nHost: a\r\n: b", 400],
    ["a DEL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb", 400],
    ["names matched in any case", "GET / HTTP/1.1\r\nhOsT: a\r\nHOST: b", 400],
    ["Transfer-Encoding in any case", "POST / HTTP/1.1\r\nHost: a\r\ntransfer-ENCODING: chunked", 411],
    ["a name of Content-Length's length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Lengtx: +3", "ok"],
  ];
  for (const [name, text, want] of cases) {
    test(name, () => {
      const h = head(text);
      expect("status" in h ? h.status : "ok").toBe(want);
    });
  }

  test("keep-alive: HTTP/1.1 unless close, HTTP/1.0 only when asked", () => {
    const ka = (t: string) => {
      const h = head(t);
      if ("status" in h) throw new Error(h.why);
      return h.keepAlive;
    };
    expect([
      ka("GET / HTTP/1.1\r\nHost: a"),
      ka("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close"),
      ka("GET / HTTP/1.0"),
      ka("GET / HTTP/1.0\r\nConnection: keep-alive"),
      ka("GET / HTTP/1.1\r\nHost: a\r\nconnection: Upgrade, \t close "),
      ka("GET / HTTP/1.0\r\nCONNECTION: TE\r\nConnection: Keep-Alive"),
      ka("GET / HTTP/1.0\r\nConnection: keep-alive-ish"),
    ]).toEqual([true, false, false, true, false, true, false]);
  });

  test("a value keeps obs-text and loses its surrounding blanks", () => {
    const b = Uint8Array.from("GET / HTTP/1.1\r\nHost: a\r\nX-Name: \t caf\xe9 \t", (ch) => ch.charCodeAt(0)); // é as one byte
    const h = parseHead(b, b.length);
    if ("status" in h) throw new Error(h.why);
    expect(h.fields[1]).toEqual(["X-Name", "caf\xe9"]);
  });
});

describe("pathOf", () => {
  test("the path comes from the request target, never from elsewhere", () => {
    expect(pathOf("/metrics?x=1")).toBe("/metrics?x=1");
    expect(pathOf("http://evil.example/-/healthy")).toBe("/-/healthy");
    expect(pathOf("*")).toBe(undefined);
    expect(pathOf("example.com:443")).toBe(undefined);
    expect(pathOf("/a\x7fb")).toBe(undefined);
  });
});

describe("Http1Server", () => {
  test("answers with Content-Length, keeps the connection, serves pipelined requests in order", async () => {
    const { l, s, seen } = server();
    const c = l.connect();
    c.send("GET /a HTTP/1.1\r\nHost: x/metrics?\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n");
    await until("two answers", () => (c.out.match(/HTTP\/1\.1 200/g) ?? []).length === 2);
    expect(c.out).toContain("Content-Length: 6\r\n");
    expect(c.out).not.toContain("Connection: close");
    // The URL's authority is the listening address; Host stays a header.
    expect(seen.map((r) => r.url)).toEqual(["http://127.0.0.1:9100/a", "http://127.0.0.1:9100/b"]);
    expect(seen[0].headers.get("host")).toBe("x/metrics?");
    expect(c.closed).toBe(false);
    await s.stop();
    expect(c.closed).toBe(true);
  });

  test("the handler's Request carries the fields as sent, for a GET as for other methods", async () => {
    const { l, s, seen } = server();
    const fields = "Host: a\r\nAccept: x\r\nX-Caf: caf\xe9\r\naccept: y\r\nConnection: keep-alive\r\n";
    const c = l.connect();
    c.send(
      Uint8Array.from(`GET /g HTTP/1.1\r\n${fields}\r\nPOST /p HTTP/1.1\r\n${fields}\r\n`, (ch) => ch.charCodeAt(0)),
    );
    await until("two answers", () => seen.length === 2);
    const want: [string, string][] = [["accept", "x, y"], ["connection", "keep-alive"], ["host", "a"], [
      "x-caf",
      "caf\xe9",
    ]];
    expect(seen.map((r): [string, [string, string][]] => [r.method, [...r.headers]])).toEqual([["GET", want], [
      "POST",
      want,
    ]]);
    await s.stop();
  });

  test("response fields: as the Fetch API's iterator gives them (Set-Cookie apart), hop-by-hop ones dropped", async () => {
    const fields: [string, string][] = [
      ["Set-Cookie", "a=1"],
      ["X-B", "1"],
      ["Connection", "keep-alive"],
      ["set-cookie", "b=2"],
      ["x-b", "2"],
      ["Content-Type", "text/plain"],
      ["Date", "then"],
      ["Content-Length", "99"],
    ];
    const { l, s } = server({ handler: () => new Response("hi", { headers: fields }) });
    const c = l.connect();
    c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await until("answer", () => c.out.endsWith("hi"));
    const iterated = [...new Response("hi", { headers: fields }).headers]
      .filter(([k]) => !["connection", "date", "content-length"].includes(k));
    expect(iterated.map(([k]) => k).sort()).toEqual(["content-type", "set-cookie", "set-cookie", "x-b"]);
    expect(c.out.replace(/\r\nDate: [^\r]*/, "")).toBe(
      `HTTP/1.1 200 OK\r\n${iterated.map(([k, v]) => `${k}: ${v}\r\n`).join("")}Content-Length: 2\r\n\r\nhi`,
    );
    await s.stop();
  });

  test("HTTP/1.0: answered in 1.0 and closed; HEAD has the length and no body", async () => {
    const { l, s } = server();
    const c = l.connect();
    c.send("GET / HTTP/1.0\r\n\r\n");
    await until("closed", () => c.closed);
    expect(c.out).toMatch(/^HTTP\/1\.0 200 OK\r\n/);
    expect(c.out).toContain("Connection: close\r\n");
    expect(c.out.endsWith("\r\n\r\nhello\n")).toBe(true);
    const h = l.connect();
    h.send("HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    await until("closed", () => h.closed);
    expect(h.out).toContain("Content-Length: 6\r\n");
    expect(h.out.endsWith("\r\n\r\n")).toBe(true);
    await s.stop();
  });

  test("a response without a body: Content-Length 0, but none claimed for HEAD or 204", async () => {
    const { l, s } = server({ handler: (req) => new Response(null, { status: req.url.endsWith("/204") ? 204 : 200 }) });
    const answers: string[] = [];
    for (const [method, path] of [["GET", "/"], ["HEAD", "/"], ["GET", "/204"]]) {
      const c = l.connect();
      c.send(`${method} ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
      await until("closed", () => c.closed);
      answers.push(`${method} ${path}: ${/content-length: (\d+)/i.exec(c.out)?.[1] ?? "none"}`);
    }
    expect(answers).toEqual(["GET /: 0", "HEAD /: none", "GET /204: none"]);
    await s.stop();
  });

  test("a Response marked as holding its body whole is answered as unmarked, byte for byte, without res.body", async () => {
    // promhttp/_body.ts' wholeBodyMark: the server takes such a body with res.bytes().
    const wholeBody = Symbol.for("ts-exporter-kit.http1.wholeBody");
    let bodyGets = 0;
    const answer = (marked: boolean) => {
      const res = new Response(enc.encode("a\u00e9b\n"), {
        headers: { "Content-Type": "text/plain; version=0.0.4", "Vary": "Accept" },
      });
      if (!marked) return res;
      const get = Object.getOwnPropertyDescriptor(Response.prototype, "body")!.get!;
      Object.defineProperty(res, "body", {
        get() {
          bodyGets++;
          return get.call(this);
        },
      });
      return Object.assign(res, { [wholeBody]: true });
    };
    const outs: string[] = [];
    for (const marked of [false, true]) {
      const { l, s } = server({ handler: () => answer(marked) });
      for (
        const req of [
          "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
          "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
          "GET / HTTP/1.0\r\n\r\n",
        ]
      ) {
        const c = l.connect();
        c.send(req);
        c.end();
        await until("closed", () => c.closed);
        outs.push(c.out.replace(/\r\nDate: [^\r]*/, ""));
      }
      await s.stop();
    }
    expect(outs[0]).toBe(
      "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\nvary: Accept\r\nContent-Length: 5\r\n\r\na\u00e9b\n",
    );
    expect(outs.slice(3)).toEqual(outs.slice(0, 3));
    expect(bodyGets).toBe(0);
  });

  test("a handler that throws or rejects: logged, answered 500, and the connection kept", async () => {
    const { l, s, errors } = server({
      handler: (req) => {
        if (req.url.endsWith("/throw")) throw new Error("thrown");
        return Promise.reject(new Error("rejected"));
      },
    });
    const c = l.connect();
    c.send("GET /throw HTTP/1.1\r\nHost: a\r\n\r\nGET /reject HTTP/1.1\r\nHost: a\r\n\r\n");
    await until("two answers", () => (c.out.match(/HTTP\/1\.1 500 Internal Server Error\r\n/g) ?? []).length === 2);
    expect(c.out).toContain(
      "content-type: text/plain; charset=utf-8\r\nContent-Length: 22\r\n\r\nInternal Server Error\n",
    );
    expect(errors.map((e) => (e as Error).message)).toEqual(["thrown", "rejected"]);
    expect(c.closed).toBe(false);
    await s.stop();
  });

  test("a streamed body goes out chunked; on HTTP/1.0 until close", async () => {
    const stream = () =>
      new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(enc.encode("ab"));
            c.enqueue(enc.encode("cde"));
            c.close();
          },
        }),
      );
    const { l, s } = server({ handler: stream });
    const c = l.connect();
    c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await until("last chunk", () => c.out.endsWith("0\r\n\r\n"));
    expect(c.out).toContain("Transfer-Encoding: chunked\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n");
    expect(c.closed).toBe(false);
    const old = l.connect();
    old.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    await until("closed", () => old.closed);
    expect(old.out).toContain("Connection: close\r\n\r\nabcde");
    expect(old.out).not.toContain("keep-alive");
    await s.stop();
  });

  test("a request the parser refuses is answered and the connection closed", async () => {
    const { l, s, seen } = server();
    const c = l.connect();
    c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    await until("closed", () => c.closed, 3_000);
    expect(c.out).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(seen.length).toBe(0);
    const big = l.connect();
    big.send(`GET / HTTP/1.1\r\nHost: a\r\nX: ${"a".repeat(maxHeaderBytes)}`);
    await until("closed", () => big.closed, 3_000);
    expect(big.out).toMatch(/^HTTP\/1\.1 431 /);
    await s.stop();
  });

  // Deno's Request refuses TRACE and TRACK (Bun's takes them to the handler); CONNECT's
  // authority-form target is refused by the parser on both.
  test("a method the Fetch API cannot carry (TRACE, CONNECT) is a 400 where it cannot, and the server goes on", async () => {
    const { l, s, errors } = server();
    for (const line of ["TRACE / HTTP/1.1", "CONNECT example.com:443 HTTP/1.1", "TRACK / HTTP/1.1"]) {
      const c = l.connect();
      c.send(`${line}\r\nHost: a\r\n\r\n`);
      c.end();
      await until("closed", () => c.closed);
      const status = c.out.split("\r\n")[0];
      expect(`${line}: ${status}`).toBe(
        `${line}: ${
          line.startsWith("CONNECT")
            ? "HTTP/1.1 400 Bad Request"
            : status === "HTTP/1.1 200 OK"
            ? status
            : "HTTP/1.1 400 Bad Request"
        }`,
      );
    }
    const ok = l.connect();
    ok.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    await until("served", () => ok.out.includes("hello"));
    expect(errors).toEqual([]);
    await s.stop();
  });

  test("400 mutated requests (seeded): each answered or closed, no error escapes, the server goes on", async () => {
    const { l, s, errors } = server({ readHeaderTimeoutMs: 200 });
    const rnd = prng(20261203);
    const base = "GET /metrics?a=1 HTTP/1.1\r\nHost: 127.0.0.1:9100\r\nAccept: text/plain\r\nContent-Length: 0\r\n\r\n";
    const alphabet = "\r\n :\t\0\x7f\xff/?#%GETPOSTHTTP/1.09-+,;chunkedTransfer-EncodingContent-Length";
    let answered = 0;
    for (let i = 0; i < 400; i++) {
      const b = Uint8Array.from(base, (ch) => ch.charCodeAt(0));
      for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) {
        b[Math.floor(rnd() * b.length)] = alphabet.charCodeAt(Math.floor(rnd() * alphabet.length));
      }
      const c = l.connect();
      c.send(b);
      c.end();
      await until(`request ${i} ended`, () => c.closed || c.out.includes("hello"), 2_000);
      if (/^HTTP\/1\.[01] \d{3} /.test(c.out)) answered++;
      c.close();
    }
    expect(errors).toEqual([]);
    expect(answered).toBeGreaterThan(0);
    const ok = l.connect();
    ok.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    await until("served after", () => ok.out.includes("hello"));
    await s.stop();
  }, 30_000);

  test("a small body is read and handed on; the next request follows it", async () => {
    const bodies: string[] = [];
    const { l, s } = server({
      handler: async (req) => {
        bodies.push(await req.text());
        return hello();
      },
    });
    const c = l.connect();
    c.send("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel");
    await sleep(20);
    c.send("loGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await until("two answers", () => (c.out.match(/200 OK/g) ?? []).length === 2);
    expect(bodies).toEqual(["hello", ""]);
    await s.stop();
  });

  test("read-header timeout: a client that stops in its header is closed", async () => {
    const { l, s } = server({ readHeaderTimeoutMs: 100, idleTimeoutMs: 5_000 });
    const t0 = performance.now();
    const c = l.connect();
    c.send("GET /metrics HTTP/1.1\r\nHost: a\r\nX-Slow: ");
    await until("closed", () => c.closed);
    expect(c.closedAt - t0).toBeGreaterThanOrEqual(90);
    expect(c.out).toBe("");
    const silent = l.connect(); // nothing sent at all: the header timeout runs from accept
    await until("closed", () => silent.closed);
    await until("no connection left", () => s.connections === 0);
    await s.stop();
  });

  test("idle timeout: a kept-alive connection waiting for its next request is closed", async () => {
    const { l, s } = server({ readHeaderTimeoutMs: 5_000, idleTimeoutMs: 100 });
    const c = l.connect();
    c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await until("answer", () => c.out.includes("hello"));
    const t0 = performance.now();
    await until("closed", () => c.closed);
    expect(c.closedAt - t0).toBeGreaterThanOrEqual(80);
    await s.stop();
  });

  test("write timeout: a client that does not read loses its connection, and the body is cancelled", async () => {
    let cancelled = false;
    const { l, s } = server({
      writeTimeoutMs: 150,
      handler: () =>
        new Response(
          new ReadableStream({
            pull(c) {
              c.enqueue(new Uint8Array(1024));
            },
            cancel() {
              cancelled = true;
            },
          }),
        ),
    });
    const c = l.connect();
    c.stallWrites = true;
    const t0 = performance.now();
    c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await until("closed", () => c.closed);
    expect(c.closedAt - t0).toBeGreaterThanOrEqual(140);
    await until("cancelled", () => cancelled);
    await until("no connection left", () => s.connections === 0);
    await s.stop();
  });

  test("a body that errors (promhttp's write timeout) closes the connection at once, even mid-write", async () => {
    let fail!: (e: Error) => void;
    const { l, s } = server({
      handler: () =>
        new Response(
          new ReadableStream({
            start(c) {
              fail = (e) => c.error(e);
            },
            pull(c) {
              c.enqueue(new Uint8Array(1024));
            },
          }),
        ),
    });
    const c = l.connect();
    c.stallWrites = true;
    c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await until("handler ran", () => fail !== undefined);
    await sleep(20);
    expect(c.closed).toBe(false);
    fail(new Error("client did not read the body within the write timeout"));
    await until("closed", () => c.closed, 500);
    await s.stop();
  });

  test("connection limit: an idle connection makes room first, then the oldest one still sending its request", async () => {
    let refused = 0;
    const blocked: (() => void)[] = [];
    const { l, s } = server({
      maxConnections: 3,
      onRefused: () => refused++,
      handler: async (req) => {
        if (req.url.endsWith("/block")) await new Promise<void>((r) => blocked.push(r));
        return hello();
      },
    });
    const busy = l.connect();
    busy.send("GET /block HTTP/1.1\r\nHost: a\r\n\r\n");
    const slow = l.connect();
    slow.send("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ");
    const kept = l.connect();
    kept.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await until("kept answered", () => kept.out.includes("hello") && blocked.length === 1);
    await sleep(10);
    const d = l.connect();
    d.send("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ");
    await until("kept closed", () => kept.closed);
    expect([refused, busy.closed, slow.closed, d.closed]).toEqual([1, false, false, false]);
    const e = l.connect();
    e.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    await until("e answered", () => e.out.includes("hello"));
    expect([refused, busy.closed, slow.closed, d.closed]).toEqual([2, false, true, false]);
    for (const r of blocked) r();
    await s.stop();
  });

  test("connection limit: when every connection is being answered, a new one is closed at once and counted", async () => {
    let refused = 0;
    const blocked: (() => void)[] = [];
    const { l, s } = server({
      maxConnections: 2,
      onRefused: () => refused++,
      handler: async () => {
        await new Promise<void>((r) => blocked.push(r));
        return hello();
      },
    });
    const a = l.connect(), b = l.connect();
    for (const c of [a, b]) c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await until("two being answered", () => blocked.length === 2);
    const c = l.connect();
    c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await until("third closed", () => c.closed);
    expect([refused, a.closed, b.closed, c.out]).toEqual([1, false, false, ""]);
    for (const r of blocked) r();
    await until("answered", () => a.out.includes("hello") && b.out.includes("hello"));
    await s.stop();
  });

  test("out of descriptors: accept keeps going, the limit drops below what was open, the oldest make room", async () => {
    const reports: [number, number][] = [];
    let refused = 0;
    const { l, s } = server({
      onAcceptError: (_e, open, max) => reports.push([open, max]),
      onRefused: () => refused++,
    });
    const held = Array.from({ length: 40 }, () => l.connect());
    for (const c of held) c.send("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ");
    await until("40 open", () => s.connections === 40);
    l.failNext = 2;
    const late = l.connect();
    late.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    await until("two failed accepts", () => reports.length === 2, 3_000);
    // 40 open, minus 32 kept for the process: the 32 oldest were closed at once.
    expect(reports[0]).toEqual([8, 8]);
    expect(s.maxConnections).toBe(8);
    expect(held.filter((c) => c.closed).length).toBe(32);
    await until("served after", () => late.out.includes("hello"));
    expect(held.filter((c) => c.closed).length).toBe(33); // one more made room for it
    expect(refused).toBe(33);
    await s.stop();
  });

  test("stop: closes waiting connections, lets the one being answered finish, then no more", async () => {
    let release!: () => void;
    const { l, s } = server({
      handler: async () => {
        await new Promise<void>((r) => release = r);
        return hello();
      },
    });
    const idle = l.connect();
    const busy = l.connect();
    busy.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await until("handler waiting", () => release !== undefined);
    const stopped = s.stop();
    await until("idle closed", () => idle.closed);
    expect(busy.closed).toBe(false);
    release();
    await stopped;
    expect(busy.out).toContain("Connection: close\r\n");
    expect(busy.out).toContain("hello");
    expect(busy.closed).toBe(true);
  });
});
