// The Node adapter (web/_serve_node.ts) on Node itself: web/testdata/node_server.ts
// is bundled for Node with `bun build --target=node` and run by `node`, the test
// being its client. What Bun and Deno serve natively is here node:http's translation:
// headers both ways, bodies, streaming, errors, clients that go away, graceful stop
// on SIGTERM, and TLS with real handshakes (openssl s_client).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { makePKI, sClient } from "./testdata/pki.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "node-adapter-"));
const bundle = join(dir, "server.mjs");
const pki = makePKI();

/** A run of the fixture under node, with its stdout and exit. */
class NodeServer {
  out = "";
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  #waiters: (() => void)[] = [];

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn("node", [bundle, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NODE_SERVER_TEST: "on", ...env },
    });
    const more = (d: Uint8Array) => {
      this.out += new TextDecoder().decode(d);
      for (const w of this.#waiters) w();
    };
    this.child.stdout!.on("data", more);
    this.child.stderr!.on("data", more);
    this.exited = new Promise((resolve) => this.child.on("close", (code) => resolve(code)));
  }

  /** Resolves with the first match of `re` in the output, waiting at most 10 s. */
  waitFor(re: RegExp): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${re} in 10 s; output:\n${this.out}`)), 10_000);
      const check = () => {
        const m = this.out.match(re);
        if (!m) return;
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== check);
        resolve(m);
      };
      this.#waiters.push(check);
      check();
    });
  }

  async port(): Promise<number> {
    return Number((await this.waitFor(/^listening (\d+)/m))[1]);
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}

/** Whether a TCP connection to the port is refused, trying for at most 2 s. */
async function refused(port: number): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    const r = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.on("connect", () => {
        s.destroy();
        resolve(false);
      });
      s.on("error", () => resolve(true));
    });
    if (r) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** The status line of a `method` request for `path`, sent over a plain socket. */
function statusLine(base: string, path: string, method = "GET"): Promise<string> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), "127.0.0.1");
    let got = "";
    sock.on("connect", () => sock.write(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    sock.on("data", (d: Uint8Array) => got += new TextDecoder().decode(d));
    sock.on("error", reject);
    sock.on("close", () => resolve(got.split("\r\n")[0]));
  });
}

const servers: NodeServer[] = [];
function start(tls?: Record<string, unknown>): NodeServer {
  const s = new NodeServer(tls ? [JSON.stringify(tls)] : []);
  servers.push(s);
  return s;
}

// One describe around all: the Deno shim of bun:test wants beforeAll inside one.
describe("web/_serve_node.ts on Node", () => {
  beforeAll(() => {
    execFileSync(join(ROOT, "node_modules/.bin/bun"), [
      "build",
      "--target=node",
      "web/testdata/node_server.ts",
      "--outfile",
      bundle,
    ], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
    });
  });

  afterAll(() => {
    for (const s of servers) s.kill();
    rmSync(dir, { recursive: true, force: true });
    rmSync(pki.dir, { recursive: true, force: true });
  });

  describe("the Node adapter, on node:http", () => {
    let s: NodeServer;
    let base = "";
    beforeAll(async () => {
      s = start();
      base = `http://127.0.0.1:${await s.port()}`;
    });

    test("adapter() picks it on Node; args and env come from process", () => {
      expect(s.out).toMatch(/^listening \d+ args= env=on$/m);
    });

    test("request headers in, status, status text and headers out, Set-Cookie kept apart", async () => {
      const res = await fetch(`${base}/hello`, { headers: { "X-Test": "ping" } });
      expect([res.status, await res.text()]).toEqual([201, "hello\n"]);
      // The status text, read off the wire: Deno's fetch puts the standard one in its place.
      expect(await statusLine(base, "/hello")).toBe("HTTP/1.1 201 Made");
      expect(res.headers.get("x-echo")).toBe("ping");
      expect(res.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
      expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    });

    test("HEAD gets the headers and no body", async () => {
      const res = await fetch(`${base}/hello`, { method: "HEAD" });
      expect(res.status).toBe(201);
      expect(await res.text()).toBe("");
    });

    test("a request body reaches the handler; one over 64 KiB is refused with 413", async () => {
      const ok = await fetch(`${base}/echo?x=1`, { method: "POST", body: "0123456789" });
      expect(await ok.text()).toBe(`POST 10 ${base}/echo?x=1\n`);
      const big = await fetch(`${base}/echo`, { method: "POST", body: new Uint8Array(70 * 1024) });
      expect(big.status).toBe(413);
      await big.body?.cancel();
    });

    test("a streamed body arrives as it is produced, not when it ends", async () => {
      const res = await fetch(`${base}/stream`);
      const reader = res.body!.getReader();
      // The server sends "second" only after /release: this read returns before then.
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toBe("first\n");
      await (await fetch(`${base}/release`)).text();
      let rest = "";
      for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
      expect(rest).toBe("second\n");
    });

    test("a handler that throws gets 500 without details, and onError hears of it", async () => {
      const res = await fetch(`${base}/throw`);
      expect([res.status, await res.text()]).toEqual([500, "Internal Server Error\n"]);
      await s.waitFor(/^onError: boom$/m);
    });

    test("a client that goes away cancels the response body's stream", async () => {
      const ac = new AbortController();
      const res = await fetch(`${base}/forever`, { signal: ac.signal });
      const reader = res.body!.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toBe("tick\n");
      ac.abort();
      await s.waitFor(/^cancelled$/m);
    });

    test("a method the Fetch API cannot carry (TRACE) is a 400 for the client, not an error of the server", async () => {
      expect(await statusLine(base, "/hello", "TRACE")).toBe("HTTP/1.1 400 Bad Request");
      expect(await statusLine(base, "/hello")).toBe("HTTP/1.1 201 Made");
      expect(s.out).not.toMatch(/onError: .*TRACE/i);
    });

    test("an unknown path is the handler's 404", async () => {
      const res = await fetch(`${base}/nope`);
      expect([res.status, await res.text()]).toEqual([404, "404 page not found\n"]);
    });
  });

  describe("slow clients", () => {
    test("a client that never finishes its headers gets 408 and is closed after 10 s", async () => {
      const s = start();
      const port = await s.port();
      const t0 = performance.now();
      const got = await new Promise<string>((resolve, reject) => {
        const sock = connect(port, "127.0.0.1", () => sock.write("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
        let data = "";
        sock.on("data", (d: Uint8Array) => data += new TextDecoder().decode(d));
        sock.on("error", reject);
        sock.on("close", () => resolve(data));
      });
      const ms = performance.now() - t0;
      expect(got.split("\r\n")[0]).toBe("HTTP/1.1 408 Request Timeout");
      // headersTimeout is 10 s, checked every second.
      expect(ms).toBeGreaterThan(9_000);
      expect(ms).toBeLessThan(15_000);
    }, 20_000);
  });

  describe("connection flags", () => {
    test(
      "--web.read-header-timeout and --web.max-connections: a half header closed after 2 s, a third connection dropped and counted",
      async () => {
        const limits = { readHeaderTimeoutMs: 2_000, idleTimeoutMs: 5_000, writeTimeoutMs: 30_000, maxConnections: 2 };
        const s = new NodeServer([], { NODE_SERVER_LIMITS: JSON.stringify(limits) });
        servers.push(s);
        const port = await s.port();
        const t0 = performance.now();
        const closedAfter = () =>
          new Promise<number>((resolve) => {
            const sock = connect(port, "127.0.0.1", () => sock.write("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
            sock.on("data", () => {}); // read the 408, so that the end and the close come
            sock.on("error", () => {});
            sock.on("close", () => resolve(performance.now() - t0));
          });
        const a = closedAfter(), b = closedAfter();
        await new Promise((r) => setTimeout(r, 200));
        const c = closedAfter(); // the third: beyond maxConnections
        await s.waitFor(/^connection refused$/m);
        expect(await c).toBeLessThan(1_000);
        for (const ms of await Promise.all([a, b])) {
          expect(ms).toBeGreaterThan(1_500); // checked every second
          expect(ms).toBeLessThan(4_500);
        }
      },
      20_000,
    );
  });

  describe("graceful stop on SIGTERM", () => {
    test("stops accepting at once, finishes the scrape in flight, then exits 0", async () => {
      const s = start();
      const port = await s.port();
      // A keep-alive connection that is idle must not hold the stop up.
      await (await fetch(`http://127.0.0.1:${port}/hello`)).text();
      const slow = fetch(`http://127.0.0.1:${port}/slow`).then(async (r) => [r.status, await r.text()]);
      await s.waitFor(/^slow started$/m);
      // process.kill, not child.kill: after child.kill Deno's node:child_process reports
      // the signal as the way the child ended, even when it handled it and exited 0.
      process.kill(s.child.pid!, "SIGTERM");
      await s.waitFor(/^signal SIGTERM$/m);
      expect(await refused(port)).toBe(true);
      expect(await slow).toEqual([200, "slow done\n"]);
      expect(await s.exited).toBe(0);
      expect(s.out.indexOf("stopped")).toBeGreaterThan(s.out.indexOf("signal SIGTERM"));
    }, 20_000);
  });

  describe("TLS on node:https", () => {
    const base = {
      cert: pki.serverCert,
      key: pki.serverKey,
      clientAuth: "none",
      minVersion: 0x0303,
      maxVersion: 0x0304,
    };

    test("serves HTTPS with the certificate; the TLS 1.2 minimum refuses a TLS 1.1 client", async () => {
      const s = start(base);
      const port = await s.port();
      const ok = await sClient(port, pki.caCert, "/hello");
      expect(ok.status).toBe(201);
      expect((await sClient(port, pki.caCert, "/hello", ["-tls1_1"])).status).toBe(0);
    }, 30_000);

    test("a TLS 1.3 minimum refuses a TLS 1.2 client", async () => {
      const s = start({ ...base, minVersion: 0x0304 });
      const port = await s.port();
      expect((await sClient(port, pki.caCert, "/hello", ["-tls1_2"])).status).toBe(0);
      expect((await sClient(port, pki.caCert, "/hello", ["-tls1_3"])).status).toBe(201);
    }, 30_000);

    test("require-and-verify: a client of the CA is served; none, or one of another CA, is refused", async () => {
      const s = start({ ...base, clientAuth: "require-and-verify", clientCA: pki.caCert });
      const port = await s.port();
      expect((await sClient(port, pki.caCert, "/hello", ["-cert", pki.clientCert, "-key", pki.clientKey])).status).toBe(
        201,
      );
      expect((await sClient(port, pki.caCert, "/hello")).status).toBe(0);
      expect(
        (await sClient(port, pki.caCert, "/hello", ["-cert", pki.rogueClientCert, "-key", pki.rogueClientKey])).status,
      ).toBe(0);
    }, 30_000);

    test("cipher suites limit TLS 1.2 and leave TLS 1.3 on", async () => {
      const s = start({ ...base, ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256" });
      const port = await s.port();
      const other = "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384";
      expect((await sClient(port, pki.caCert, "/hello", ["-tls1_2", "-cipher", other])).status).toBe(0);
      expect((await sClient(port, pki.caCert, "/hello", ["-tls1_2"])).status).toBe(201);
      expect((await sClient(port, pki.caCert, "/hello", ["-tls1_3"])).status).toBe(201);
    }, 30_000);
  });
});
