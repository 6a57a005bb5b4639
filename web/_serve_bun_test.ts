// The Bun adapter on Bun.serve (the default, --web.server=runtime): the connection of a
// client that stopped reading its response is closed once the write timeout (plus a
// uWS tick) passed without progress, while a connection kept alive after a response
// written at once keeps --web.idle-timeout. Bun only; the kit's server on Bun is
// web/_http1_bun_test.ts.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { connect as connectTLS } from "node:tls";
import type { Listener, TLSOptions } from "./adapter.ts";
import { bunAdapter } from "./_serve_bun.ts";
import { makePKI } from "./testdata/pki.ts";

const onBun = "Bun" in globalThis;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bigBytes = 32 * 1024 * 1024;

/** A raw client (over TLS with `ca`): what it received, and whether the server closed the connection. */
function client(
  port: number,
  ca?: string,
): { sock: Socket; received: () => string; bytes: () => number; closed: () => boolean } {
  let text = "", bytes = 0, closed = false;
  const sock = ca ? connectTLS({ host: "127.0.0.1", port, ca }) : connect(port, "127.0.0.1");
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

  /**
   * A kept-alive client of a small answer and a non-reader of a 32 MiB one, on one
   * server; after 10 s, whether the first still gets answers on its connection and
   * whether the server closed the second's.
   */
  async function scenario(tls?: TLSOptions & { ca: string }) {
    const big = new Uint8Array(bigBytes).fill(0x78);
    const l = await bunAdapter.listen({
      hostname: "127.0.0.1",
      port: 0,
      handler: (req) => new Response(new URL(req.url).pathname === "/big" ? big : "small\n"),
      onError: (e) => {
        throw e;
      },
      ...(tls ? { tls } : {}),
      // The connection of the non-reader goes 5-9 s after its response: 1 s, plus the
      // tick the adapter adds, rounded to uWS' 4 s ticks.
      limits: { readHeaderTimeoutMs: 10_000, idleTimeoutMs: 30_000, writeTimeoutMs: 1_000, maxConnections: 0 },
    });
    listeners.push(l);
    const reader = client(l.port, tls?.ca), nonReader = client(l.port, tls?.ca);
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
    const keptAliveAnswers = reader.received().split("HTTP/1.1 200").length - 1;
    reader.sock.destroy();
    nonReader.sock.destroy();
    return { keptAliveAnswers, nonReaderCut: nonReader.closed() && nonReader.bytes() < bigBytes };
  }

  (onBun ? test : test.skip)(
    "a non-reader's connection is closed after the write timeout; a kept-alive one keeps the idle timeout (HTTP and HTTPS)",
    async () => {
      const pki = makePKI();
      const tls = {
        cert: readFileSync(pki.serverCert, "utf8"),
        key: readFileSync(pki.serverKey, "utf8"),
        clientAuth: "none" as const,
        minVersion: 0x0303,
        maxVersion: 0x0304,
        ca: readFileSync(pki.caCert, "utf8"),
      };
      const [plain, secure] = await Promise.all([scenario(), scenario(tls)]);
      expect({ plain, secure }).toEqual({
        plain: { keptAliveAnswers: 2, nonReaderCut: true },
        secure: { keptAliveAnswers: 2, nonReaderCut: true },
      });
    },
    25_000,
  );
});
