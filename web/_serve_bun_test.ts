// The Bun adapter on Bun.serve (the default, --web.server=runtime): the connection of a
// client that stopped reading its response is closed once the write timeout (plus a
// uWS tick) passed without progress, while a connection kept alive after a response
// written at once keeps --web.idle-timeout. Bun only; the kit's server on Bun is
// web/_http1_bun_test.ts.
import { afterAll, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import type { Listener } from "./adapter.ts";
import { bunAdapter } from "./_serve_bun.ts";

const onBun = "Bun" in globalThis;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bigBytes = 32 * 1024 * 1024;

/** A raw client: what it received, and whether the server closed the connection. */
function client(port: number): { sock: Socket; received: () => string; bytes: () => number; closed: () => boolean } {
  let text = "", bytes = 0, closed = false;
  const sock = connect(port, "127.0.0.1");
  sock.on("data", (b: Uint8Array) => {
    bytes += b.length;
    if (text.length < 4096) text += new TextDecoder().decode(b.subarray(0, 4096));
  });
  sock.on("error", () => {});
  sock.on("close", () => closed = true);
  return { sock, received: () => text, bytes: () => bytes, closed: () => closed };
}

describe("Bun.serve", () => {
  const listeners: Listener[] = [];
  afterAll(async () => {
    await Promise.all(listeners.map((l) => l.stop()));
  });

  (onBun ? test : test.skip)(
    "a non-reader's connection is closed after the write timeout; a kept-alive one keeps the idle timeout",
    async () => {
      const big = new Uint8Array(bigBytes).fill(0x78);
      const l = await bunAdapter.listen({
        hostname: "127.0.0.1",
        port: 0,
        handler: (req) => new Response(new URL(req.url).pathname === "/big" ? big : "small\n"),
        onError: (e) => {
          throw e;
        },
        // The connection of the non-reader goes 5-9 s after its response: 1 s, plus the
        // tick the adapter adds, rounded to uWS' 4 s ticks.
        limits: { readHeaderTimeoutMs: 10_000, idleTimeoutMs: 30_000, writeTimeoutMs: 1_000, maxConnections: 0 },
      });
      listeners.push(l);
      const reader = client(l.port), nonReader = client(l.port);
      reader.sock.write("GET /small HTTP/1.1\r\nHost: x\r\n\r\n");
      nonReader.sock.pause();
      nonReader.sock.write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
      await sleep(10_000);
      // Still connected: a second request on the kept-alive connection is answered.
      reader.sock.write("GET /small HTTP/1.1\r\nHost: x\r\n\r\n");
      // Reading now: a connection the server closed ends short of the body.
      nonReader.sock.resume();
      for (let i = 0; i < 100 && (!nonReader.closed() || reader.received().split("small\n").length < 3); i++) {
        await sleep(50);
      }
      const kept = reader.received().split("HTTP/1.1 200").length - 1;
      reader.sock.destroy();
      nonReader.sock.destroy();
      expect({ keptAliveAnswers: kept, readerClosedByServer: reader.closed() && kept < 2 }).toEqual({
        keptAliveAnswers: 2,
        readerClosedByServer: false,
      });
      expect(nonReader.closed()).toBe(true);
      expect(nonReader.bytes()).toBeLessThan(bigBytes);
    },
    20_000,
  );
});
