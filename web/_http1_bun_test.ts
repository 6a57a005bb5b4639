// The Bun transport of the kit's HTTP/1.1 server (web/_http1_bun.ts): Bun.listen's
// callbacks driven by hand over in-memory sockets, so that it runs the same under
// `bun test` and `deno test` — partial writes and drain, pausing a client that sends
// faster than the server reads, and each bound of web/_http1.ts through it (header
// timeout, write timeout on a client that does not read, connection limit). On Bun, the
// same over real sockets (listenBun), and ALPN over TLS through the adapter; the web
// config's TLS settings over it are web/tls_test.ts with TEST_WEB_SERVER=kit.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { type Http1Options, Http1Server } from "./_http1.ts";
import { BunConn, BunConnListener, type BunSocket, listenBun, maxQueuedBytes } from "./_http1_bun.ts";
import { sleep } from "../testing/process.ts";
import { http1Options, until } from "./testdata/http1.ts";
import { makePKI, sClient } from "./testdata/pki.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const onBun = "Bun" in globalThis;

/** A Bun socket in memory: the test plays the client and Bun's callbacks. */
class FakeSocket implements BunSocket {
  data: unknown;
  out = "";
  /** Bytes write() takes before it returns short (a client that does not read). */
  budget = Infinity;
  writes = 0;
  paused = false;
  ended = false;
  terminated = false;
  shut = false;
  get conn(): BunConn {
    return this.data as BunConn;
  }
  get closed(): boolean {
    return this.ended || this.terminated;
  }
  write(d: Uint8Array): number {
    if (this.closed) return -1;
    this.writes++;
    const n = Math.min(d.length, this.budget);
    this.budget -= n;
    this.out += dec.decode(d.subarray(0, n));
    return n;
  }
  end(): void {
    this.ended = true;
    queueMicrotask(() => this.conn.onClose()); // as Bun calls close after end
  }
  terminate(): void {
    this.terminated = true;
    queueMicrotask(() => this.conn.onClose());
  }
  shutdown(): void {
    this.shut = true;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  /** The client sends bytes: Bun's `data` callback. */
  send(text: string | Uint8Array): void {
    this.conn.onData(typeof text === "string" ? enc.encode(text) : text);
  }
  /** The client reads `n` more bytes: the socket drains. */
  drain(n = Infinity): void {
    this.budget = n;
    this.conn.onDrain();
  }
}

function server(opts: Partial<Http1Options> = {}) {
  let stopped = false;
  const l = new BunConnListener(() => stopped = true);
  const errors: unknown[] = [];
  const s = new Http1Server(l, http1Options(() => new Response("hello\n"), errors, opts));
  const open = () => {
    const sock = new FakeSocket();
    l.opened(sock);
    return sock;
  };
  return { l, s, open, errors, stopped: () => stopped };
}

describe("Bun transport (in memory)", () => {
  test("pipelined requests answered in order, each known-length answer in one write; Connection: close ends the socket", async () => {
    const { s, open } = server();
    const c = open();
    c.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n");
    c.send("Connection: close\r\n\r\n");
    await until("ended", () => c.ended);
    expect(c.out.match(/HTTP\/1\.1 200 OK\r\n/g)?.length).toBe(2);
    expect(c.writes).toBe(2);
    expect(c.terminated).toBe(false);
    await s.stop();
  });

  test("a short write goes on from where it stopped once the socket drains", async () => {
    const body = "~".repeat(100_000);
    const { s, open } = server({ handler: () => new Response(body) });
    const c = open();
    c.budget = 1000;
    c.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    await until("first 1000 bytes", () => c.out.length === 1000);
    await sleep(10);
    expect(c.out.length).toBe(1000); // waits for drain, does not spin
    for (let i = 0; i < 200 && !c.ended; i++) {
      c.drain(4096);
      await sleep(1);
    }
    await until("ended", () => c.ended);
    expect(c.out.split("~").length - 1).toBe(body.length); // every byte, in order of its framing
    expect(c.out.endsWith("~") || c.out.endsWith("0\r\n\r\n")).toBe(true);
    await s.stop();
  });

  test("write timeout: a client that stops reading mid-body loses its connection (terminate), the server goes on", async () => {
    const { s, open } = server({ writeTimeoutMs: 50, handler: () => new Response(new Uint8Array(1 << 20)) });
    const c = open();
    c.budget = 64 * 1024;
    c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await until("terminated", () => c.terminated);
    await until("no connection left", () => s.connections === 0);
    const d = open();
    d.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    await until("next one answered", () => d.ended);
    expect(d.out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    await s.stop();
  });

  test("header timeout and connection limit hold through the transport", async () => {
    let refused = 0;
    const blocked: (() => void)[] = [];
    const { s, open } = server({
      readHeaderTimeoutMs: 50,
      maxConnections: 1,
      onRefused: () => refused++,
      handler: async () => {
        await new Promise<void>((r) => blocked.push(r));
        return new Response("late\n");
      },
    });
    const slow = open();
    slow.send("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ");
    await until("slow closed by the header timeout", () => slow.closed);
    const busy = open();
    busy.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await until("busy in the handler", () => blocked.length === 1);
    const extra = open();
    await until("extra refused", () => extra.closed);
    expect([refused, busy.closed]).toEqual([1, false]);
    blocked[0]();
    await until("busy answered", () => busy.out.includes("late"));
    await s.stop();
  });

  test("a client that sends faster than the server reads is paused, and resumed as the server catches up", async () => {
    const sock = new FakeSocket();
    const c = new BunConn(sock);
    sock.data = c;
    sock.send(new Uint8Array(maxQueuedBytes));
    expect(sock.paused).toBe(true);
    const p = new Uint8Array(maxQueuedBytes / 4);
    await c.read(p);
    expect(sock.paused).toBe(true);
    await c.read(p);
    await c.read(p);
    expect(sock.paused).toBe(false);
    c.onEnd();
    expect(await c.read(p)).toBe(maxQueuedBytes / 4);
    expect(await c.read(p)).toBe(null);
  });

  test("the client's FIN is end of input; close() ends the socket and fails what waits", async () => {
    const sock = new FakeSocket();
    const c = new BunConn(sock);
    sock.data = c;
    const r = c.read(new Uint8Array(10)).catch((e: Error) => e.message);
    sock.budget = 0;
    const w = c.write(enc.encode("abc")).catch((e: Error) => e.message);
    await sleep(1);
    c.close();
    expect([await r, await w]).toEqual(["connection closed", "connection closed"]);
    expect(sock.terminated).toBe(true); // a write was waiting: dropped, not flushed
    const sock2 = new FakeSocket();
    const c2 = new BunConn(sock2);
    sock2.data = c2;
    c2.onEnd();
    expect(await c2.read(new Uint8Array(10))).toBe(null);
    await c2.closeWrite();
    expect(sock2.shut).toBe(true);
    c2.close();
    expect([sock2.ended, sock2.terminated]).toEqual([true, false]);
  });

  test("stop: the listener stops listening, accept ends, sockets opened after are closed", async () => {
    const { s, open, stopped } = server();
    await s.stop();
    expect(stopped()).toBe(true);
    const late = open();
    expect(late.closed).toBe(true);
  });
});

describe("Bun transport over Bun.listen", () => {
  (onBun ? test : test.skip)(
    "serves fetch; closes a slow-header client and a non-reader of a large body; counts connections",
    async () => {
      const l = listenBun({ hostname: "127.0.0.1", port: 0 });
      const s = new Http1Server(l, {
        handler: (req) =>
          new URL(req.url).pathname === "/big" ? new Response(new Uint8Array(64 << 20)) : new Response("hello\n"),
        onError: () => {},
        scheme: "http",
        authority: `127.0.0.1:${l.port}`,
        readHeaderTimeoutMs: 100,
        idleTimeoutMs: 1_000,
        writeTimeoutMs: 200,
        maxConnections: 0,
      });
      try {
        const res = await fetch(`http://127.0.0.1:${l.port}/`);
        expect([res.status, await res.text()]).toEqual([200, "hello\n"]);
        const slow = connect(l.port, "127.0.0.1");
        slow.on("error", () => {});
        const slowClosed = new Promise<void>((r) => slow.on("close", () => r()));
        slow.write("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ");
        await slowClosed; // the header timeout: the server closed it
        const nonReader = connect(l.port, "127.0.0.1");
        nonReader.pause();
        nonReader.on("error", () => {});
        nonReader.write("GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
        await until("the non-reader's request in", () => s.connections >= 1);
        // The write timeout closes the server's side though the client is still there.
        await until("the non-reader's connection closed by the server", () => s.connections === 0, 5_000);
        nonReader.destroy();
      } finally {
        await s.stop();
      }
    },
    15_000,
  );

  (onBun ? test : test.skip)(
    "over TLS (the adapter with --web.server=kit): HTTP/1.1 only by ALPN, even to a client that prefers h2",
    async () => {
      const pki = makePKI();
      const { bunAdapter } = await import("./_serve_bun.ts");
      const l = await bunAdapter.listen({
        hostname: "127.0.0.1",
        port: 0,
        server: "kit",
        handler: () => new Response("hello\n"),
        onError: () => {},
        tls: {
          cert: readFileSync(pki.serverCert, "utf8"),
          key: readFileSync(pki.serverKey, "utf8"),
          clientAuth: "none",
          minVersion: 0x0303,
          maxVersion: 0x0304,
        },
      });
      try {
        const r = await sClient(l.port, pki.caCert, "/");
        expect(r.status).toBe(200);
        const tls = await import("node:tls");
        const alpn = await new Promise<string | false>((resolve, reject) => {
          const c = tls.connect({
            host: "127.0.0.1",
            port: l.port,
            ca: readFileSync(pki.caCert, "utf8"),
            ALPNProtocols: ["h2", "http/1.1"],
          }, () => {
            resolve(c.alpnProtocol ?? false);
            c.destroy();
          });
          c.on("error", reject);
        });
        expect(alpn).toBe("http/1.1");
      } finally {
        await l.stop();
      }
    },
    15_000,
  );
});
