// The premise of reusing a body's buffer once its Response is made: the Fetch standard
// has `new Response(bufferSource)` take "a copy of the bytes held by object". If a
// runtime ever stopped copying, reuse would corrupt bodies still being sent; this test
// says so first.
import { afterAll, describe, expect, test } from "bun:test";
import type { Collector } from "../prometheus/collector.ts";
import { newDesc } from "../prometheus/desc.ts";
import { GaugeValue, mustNewConstMetric } from "../prometheus/value.ts";
import { Buffer } from "node:buffer";
import { connect } from "node:net";
import { registryWith, Servers, within } from "../testing/http.ts";
import { adapter } from "../web/adapter.ts";
import { largeExposition, piecesInOrder, wholeBodyMark } from "./_body.ts";
import { handlerFor } from "./handler.ts";

describe("new Response(Uint8Array)", () => {
  test("copies the bytes: changing the buffer afterwards changes neither the body nor what is served", async () => {
    const buf = new Uint8Array(4 * 1024 * 1024).fill(0x41); // larger than a socket buffer
    const res = new Response(buf.subarray(0, buf.length - 1));
    buf.fill(0x42);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body.length).toBe(buf.length - 1);
    expect(body.every((b) => b === 0x41)).toBe(true);
  });

  test("a small exposition's kept buffer: answers read after later scrapes are their own", async () => {
    // Small bodies are encoded into one buffer kept from scrape to scrape (_body.ts,
    // keptSmall): each answer must hold its own bytes, whatever is encoded after it.
    // Longer each time for six scrapes, so that the kept buffer also has to grow.
    const { c: counting } = scrapeCounting("scrape_number", (scrape) => Math.min(scrape, 6) * 40, (scrape) => scrape);
    const h = handlerFor(registryWith(counting), { registry: null, enableOpenMetrics: true });
    const om = { Accept: "application/openmetrics-text;version=1.0.0" };
    const answers: Response[] = [];
    for (let i = 0; i < 6; i++) {
      answers.push(await h(new Request("http://localhost/metrics", { headers: i % 2 ? om : {} })));
    }
    const bodies = await Promise.all(answers.map((r) => r.text()));
    const numbers = bodies.map((
      b,
    ) => [...new Set(b.match(/^scrape_number\{[^}]*\} \d+/gm)!.map((l) => l.split(" ")[1]))]);
    expect(numbers).toEqual([["1"], ["2"], ["3"], ["4"], ["5"], ["6"]]);
    expect(bodies.map((b) => b.split("\n").filter((l) => l.startsWith("scrape_number{")).length))
      .toEqual([40, 80, 120, 160, 200, 240]);
    expect(bodies.map((b) => b.endsWith("# EOF\n"))).toEqual([false, true, false, true, false, true]);
    // At once, each its own scrape (another query): encodings interleave with answers.
    const at = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) => h(new Request(`http://localhost/metrics?i=${i}`, { headers: i % 2 ? om : {} }))),
    );
    const seen = (await Promise.all(at.map((r) => r.text())))
      .map((b) => [...new Set(b.match(/^scrape_number\{[^}]*\} \d+/gm)!.map((l) => l.split(" ")[1]))].join());
    expect(seen.sort()).toEqual(["10", "11", "12", "7", "8", "9"]);
  });
});

// What lets a large body's buffer be reused on Deno: the kit's own server writes each
// piece before it reads the next, and says so on the requests it makes.
describe("the kit's HTTP/1.1 server marks its requests", () => {
  test("a handler behind it sees piecesInOrder(req); a Request made elsewhere does not", async () => {
    const seen: boolean[] = [];
    const l = await (await adapter()).listen({
      hostname: "127.0.0.1",
      port: 0,
      server: "kit",
      handler: (req) => {
        seen.push(piecesInOrder(req));
        return new Response("ok\n");
      },
      onError: () => {},
    });
    try {
      expect(await (await fetch(`http://127.0.0.1:${l.port}/metrics`)).text()).toBe("ok\n");
    } finally {
      await l.stop();
    }
    expect(seen).toEqual([true]);
    expect(piecesInOrder(new Request("http://127.0.0.1/metrics"))).toBe(false);
  });
});

// What lets the kit's server skip the stream a Response's body getter makes on Deno.
describe("a scrape's Response says whether it holds its body whole (wholeBodyMark)", () => {
  test("a small exposition's does, a large streamed one's does not; each body is the scrape", async () => {
    const { c } = scrapeCounting("sized", (scrape) => (scrape === 1 ? 3 : largeExposition + 1), () => 1);
    const h = handlerFor(registryWith(c), { registry: null, disableCompression: true });
    const marked: unknown[] = [], lines: number[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await h(new Request("http://localhost/metrics"));
      marked.push((res as unknown as Record<symbol, unknown>)[wholeBodyMark]);
      lines.push((await res.text()).split("\n").filter((l) => l.startsWith("sized{")).length);
    }
    expect(marked).toEqual([true, undefined]);
    expect(lines).toEqual([3, largeExposition + 1]);
  });
});

/**
 * A collector of `count(scrape)` series `name{id="series-i"}` valued `value(scrape, i)`,
 * where `scrape` counts its runs from 1.
 */
function scrapeCounting(
  name: string,
  count: (scrape: number) => number,
  value: (scrape: number, i: number) => number,
): { c: Collector; scrapes: () => number } {
  const desc = newDesc(name, "Series of a numbered scrape.", ["id"]);
  let scrape = 0;
  const c: Collector = {
    name,
    describe: (ch) => ch(desc),
    collect: (ch) => {
      scrape++;
      const n = count(scrape);
      for (let i = 0; i < n; i++) ch(mustNewConstMetric(desc, GaugeValue, value(scrape, i), `series-${i}`));
    },
  };
  return { c, scrapes: () => scrape };
}

/** A collector of 400,000 series `big{id="series-i"}` valued `value(scrape, i)`; ~12 MB of text. */
function bigCollector(value: (scrape: number, i: number) => number): { c: Collector; scrapes: () => number } {
  return scrapeCounting("big", () => 400_000, value);
}

describe("a large identity body, streamed from a buffer the next scrape reuses", () => {
  const servers = new Servers();
  afterAll(() => servers.stopAll());

  test(
    "a reader that stops reading gets its own scrape, byte for byte, while later scrapes reuse the buffer",
    async () => {
      // Values say which scrape made them. The first body (~12 MB, more than the socket
      // buffers hold) is read up to its first bytes; then the reader stops, so the server
      // must wait with the rest, while three more scrapes are served in full. A piece
      // handed back while still needed would show later values in the first body.
      const { c } = bigCollector((scrape) => scrape);
      const srv = await servers.serve(handlerFor(registryWith(c), { registry: null }));
      const sock = connect(srv.port, "127.0.0.1");
      const received: Buffer[] = [];
      const firstBytes = new Promise<void>((resolve) => sock.once("data", () => resolve()));
      sock.on("data", (d: Buffer) => received.push(d));
      const ended = new Promise<void>((resolve) => sock.on("end", () => resolve()));
      sock.write("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      await firstBytes;
      sock.pause();
      for (let i = 0; i < 3; i++) {
        const other = await (await fetch(`${srv.base}/metrics`)).text();
        expect(other.split("\n").filter((l) => l.startsWith("big{")).every((l) => l.endsWith(` ${i + 2}`))).toBe(true);
      }
      sock.resume();
      await ended;
      const lines = httpBody(Buffer.concat(received).toString("latin1")).split("\n").filter((l) =>
        l.startsWith("big{")
      );
      expect(lines.length).toBe(400_000);
      expect(lines.filter((l) => !l.endsWith(" 1")).slice(0, 3)).toEqual([]);
    },
    30_000,
  );
});

describe("clients that do not read (issue 12, finding 3)", () => {
  const servers = new Servers();
  afterAll(() => servers.stopAll());
  const big = bigCollector((_, i) => i);
  const c = big.c;
  const stalledClient = async (port: number) => {
    const sock = connect(port, "127.0.0.1");
    const firstBytes = new Promise<void>((resolve) => sock.once("data", () => resolve()));
    const closed = new Promise<void>((resolve) => sock.on("close", () => resolve()));
    sock.on("error", () => {});
    sock.write("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await firstBytes;
    sock.pause();
    return { sock, closed };
  };

  test("a client that stops reading holds no in-flight place, and is cut off after the write timeout", async () => {
    const lines: string[] = [];
    const srv = await servers.serve(
      handlerFor(registryWith(c), {
        registry: null,
        maxRequestsInFlight: 1,
        writeTimeoutMs: 500,
        errorLog: (m) => lines.push(m),
      }),
    );
    const stalled = await stalledClient(srv.port);
    const during = await fetch(`${srv.base}/metrics`);
    await during.arrayBuffer();
    expect(during.status).toBe(200);
    // The body's stream is errored at the write timeout and its encoding let go. (Bun
    // closes the connection itself only at its idle timeout: the adapter's business.)
    const cutOff = new Promise<void>((resolve) => {
      const poll = setInterval(
        () => lines.some((l) => l.includes("write timeout")) && (clearInterval(poll), resolve()),
        20,
      );
    });
    await within(10_000, "the write timeout's log line", cutOff);
    expect(lines.filter((l) => l.includes("write timeout"))).toHaveLength(1);
    stalled.sock.destroy();
    await stalled.closed;
  }, 30_000);

  test("concurrent scrapes of one exposition share one gather and one encoding", async () => {
    const srv = await servers.serve(
      handlerFor(registryWith(c), { registry: null, writeTimeoutMs: 5_000, errorLog: () => {} }),
    );
    const before = big.scrapes();
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => fetch(`${srv.base}/metrics`).then((r) => r.text())),
    );
    expect(new Set(answers).size).toBe(1);
    expect(answers[0].split("\n").filter((l) => l.startsWith("big{")).length).toBe(400_000);
    // Requests that arrive while one is gathered join it; at most a straggler starts another.
    expect(big.scrapes() - before).toBeLessThan(4);
  }, 30_000);
});

/** The body of a raw HTTP/1.1 response, chunked or not. */
function httpBody(raw: string): string {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split).toLowerCase();
  let rest = raw.slice(split + 4);
  if (!/transfer-encoding: *chunked/.test(head)) return rest;
  let body = "";
  for (;;) {
    const eol = rest.indexOf("\r\n");
    const size = parseInt(rest.slice(0, eol), 16);
    if (!(size > 0)) return body;
    body += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}
