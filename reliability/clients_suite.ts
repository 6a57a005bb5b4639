// Slow and hostile clients against the exporter as shipped: 500 connections that
// trickle their headers must not stop a normal scrape answering in under 1 s, and the
// server should close them (within --web.read-header-timeout on Deno, 10 s by
// default; Bun closes them after ~10-12 s itself); a POST with a 10 MiB body must be refused without being buffered; a
// 64 KiB request line or header must be refused.
import { afterAll, describe, expect, test } from "bun:test";
import { execSync } from "node:child_process";
import { connect, type Socket } from "node:net";
import { command, LONG, MiB, mib, record, RUNTIMES, type Server, sleep, startExporter } from "./_harness.ts";

const AREA = "slow and hostile clients";
const CMD = command("clients_suite.ts");
const TRICKLERS = 500;
/** How long the long mode watches for the server to close slow connections. */
const WATCH_MS = 75_000;
/** A bound on closing them: 30 s, plus timer slack (the header timeout is 10 s on Deno, ~12 s on Bun). */
const IDLE_TIMEOUT_MS = 30_000, SLACK_MS = 5_000;
const ULIMIT = Number(execSync("ulimit -n", { shell: "/bin/sh" }).toString().trim());

/** A connection that records when and how the server ended it. */
class Conn {
  readonly socket: Socket;
  readonly opened = performance.now();
  closedAt: number | undefined;
  received = "";
  error: string | undefined;
  readonly connected: Promise<void>;
  constructor(port: number) {
    this.socket = connect(port, "127.0.0.1");
    this.connected = new Promise((resolve, reject) => {
      this.socket.once("connect", () => resolve());
      this.socket.once("error", reject);
    });
    this.socket.on("data", (d: Uint8Array) => {
      if (this.received.length < 4096) this.received += new TextDecoder().decode(d);
    });
    this.socket.on("error", (e: Error & { code?: string }) => this.error ??= e.code ?? e.message);
    this.socket.on("close", () => this.closedAt ??= performance.now());
  }
  get status(): string {
    return this.received.match(/^HTTP\/1\.[01] (\d{3})/)?.[1] ?? (this.closedAt ? "closed" : "none");
  }
  write(s: string | Uint8Array): boolean {
    return this.closedAt === undefined && !this.socket.destroyed && this.socket.write(s);
  }
  destroy(): void {
    this.socket.destroy();
  }
}

/** Sends `request` and waits (at most `ms`) for the server to answer or close. */
async function exchange(port: number, request: string, ms = 5_000): Promise<Conn> {
  const c = new Conn(port);
  await c.connected;
  c.write(request);
  const end = performance.now() + ms;
  while (performance.now() < end && c.closedAt === undefined && !/\r\n\r\n/.test(c.received)) await sleep(10);
  c.destroy();
  return c;
}

const ms = (x: number) => `${(x / 1000).toFixed(1)} s`;

function closeTimes(conns: Conn[]): string {
  const t = conns.filter((c) => c.closedAt !== undefined).map((c) => c.closedAt! - c.opened).sort((a, b) => a - b);
  if (t.length === 0) return `none of ${conns.length} closed within ${ms(WATCH_MS)}`;
  return `${t.length} of ${conns.length} closed by the server after ${ms(t[0])}–${ms(t.at(-1)!)} (median ${
    ms(t[t.length >> 1])
  })`;
}

for (const rt of RUNTIMES) {
  describe(`slow and hostile clients on ${rt.name} (${rt.how})`, () => {
    let s: Server;
    const open: Conn[] = [];
    /** What the long mode saw, taken before the test closes the connections itself. */
    let watched: { tricklers: string; idle: string; inTime: boolean } | undefined;
    afterAll(async () => {
      for (const c of open) c.destroy();
      await s?.stop();
    });

    test(`${TRICKLERS} connections trickling headers: a normal scrape still answers in < 1 s`, async () => {
      s = await startExporter(rt);
      const fdsBefore = s.fds();
      const tricklers = Array.from({ length: TRICKLERS }, () => new Conn(s.port));
      open.push(...tricklers);
      await Promise.all(tricklers.map((c) => c.connected));
      for (const c of tricklers) c.write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
      // Idle after half a request line: what the idle timeout alone does.
      const idle = Array.from({ length: 20 }, () => new Conn(s.port));
      open.push(...idle);
      await Promise.all(idle.map((c) => c.connected));
      for (const c of idle) c.write("GET /metr");
      // One byte per connection every 500 ms (2 s in the long mode), for as long as we watch.
      const every = LONG ? 2_000 : 500;
      let trickling = true;
      const trickle = (async () => {
        while (trickling) {
          for (const c of tricklers) c.write("a");
          await sleep(every);
        }
      })();
      await sleep(1_000);
      const fdsDuring = s.fds();
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        const res = await fetch(`${s.url}/metrics`, { signal: AbortSignal.timeout(5_000) });
        await res.arrayBuffer();
        expect(res.status).toBe(200);
        times.push(performance.now() - t0);
      }
      const worst = Math.max(...times);
      let closing = "not watched in the fast mode (make test-reliability-long watches 75 s)";
      let idleClosing = closing;
      if (LONG) {
        const end = performance.now() + WATCH_MS;
        while (performance.now() < end && ![...tricklers, ...idle].every((c) => c.closedAt !== undefined)) {
          await sleep(250);
        }
        closing = closeTimes(tricklers);
        idleClosing = closeTimes(idle);
        watched = {
          tricklers: closing,
          idle: idleClosing,
          inTime: [...tricklers, ...idle].every((c) =>
            c.closedAt !== undefined && c.closedAt - c.opened < IDLE_TIMEOUT_MS + SLACK_MS
          ),
        };
      }
      trickling = false;
      await trickle;
      record({
        area: AREA,
        test:
          `${TRICKLERS} connections trickling headers (1 byte / ${every} ms) + 20 idle after "GET /metr"; ulimit -n ${ULIMIT}`,
        runtime: rt.name,
        figure: `normal scrape worst of 5: ${
          worst.toFixed(0)
        } ms; server fds ${fdsBefore} → ${fdsDuring}; tricklers: ${closing}; idle: ${idleClosing}`,
        held: worst < 1_000,
        command: CMD,
      });
      expect(worst).toBeLessThan(1_000);
      for (const c of open.splice(0)) c.destroy();
    }, WATCH_MS + 60_000);

    if (LONG) {
      const name = `slow connections are closed within the idle timeout (${IDLE_TIMEOUT_MS / 1000} s + ${
        SLACK_MS / 1000
      } s)`;
      const check = () => {
        record({
          area: AREA,
          test: `trickling and idle connections closed within ${IDLE_TIMEOUT_MS / 1000} s (+${
            SLACK_MS / 1000
          } s slack)`,
          runtime: rt.name,
          figure: `tricklers: ${watched?.tricklers}; idle: ${watched?.idle}`,
          held: watched?.inTime === true,
          command: CMD,
        });
        expect(watched?.inTime).toBe(true);
      };
      // Deno: --web.read-header-timeout (10 s) of the kit's server (web/_http1.ts);
      // until it served on its own server, Deno.serve kept such connections for good.
      test(name, check);
    }

    test("a POST with a 10 MiB body is refused without buffering it", async () => {
      await sleep(500);
      const rssBefore = s.rss();
      const c = new Conn(s.port);
      open.push(c);
      await c.connected;
      const size = 10 * MiB;
      c.write(
        `POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: ${size}\r\n\r\n`,
      );
      const chunk = new Uint8Array(64 * 1024).fill(0x61);
      let sent = 0, sentAtAnswer = -1;
      const end = performance.now() + 10_000;
      while (sent < size && c.closedAt === undefined && performance.now() < end) {
        if (sentAtAnswer < 0 && c.received.length) sentAtAnswer = sent;
        if (!c.write(chunk)) await new Promise((r) => setTimeout(r, 5));
        sent += chunk.length;
      }
      if (sentAtAnswer < 0 && c.received.length) sentAtAnswer = sent;
      const settle = performance.now() + 3_000;
      while (!c.received.includes("\r\n\r\n") && c.closedAt === undefined && performance.now() < settle) {
        await sleep(20);
      }
      const rssAfter = s.rss();
      c.destroy();
      const rise = rssAfter - rssBefore;
      const status = c.status;
      // Refused: a 4xx, or the connection closed by the server before the body was in.
      const refused = /^4\d\d$/.test(status) || (status === "closed" && sent < size);
      record({
        area: AREA,
        test: "POST /metrics with Content-Length 10 MiB, body streamed in 64 KiB writes",
        runtime: rt.name,
        figure: `answer ${status === "closed" ? "none (closed without a status line)" : status}${
          sentAtAnswer >= 0 ? ` after ${mib(sentAtAnswer)} sent` : ""
        }; connection ${c.closedAt ? "closed by the server" : "left open"}; ${mib(sent)} written in all; RSS ${
          mib(rssBefore)
        } → ${mib(rssAfter)} (${rise >= 0 ? "+" : ""}${mib(rise)})`,
        held: refused && rise < MiB,
        command: CMD,
      });
      expect(refused).toBe(true);
      expect(rise).toBeLessThan(MiB);
    }, 30_000);

    for (
      const [what, request] of [
        ["a 64 KiB request line", `GET /metrics?x=${"a".repeat(64 * 1024)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`],
        ["a 64 KiB header", `GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`],
      ] as const
    ) {
      test(`${what} is refused`, async () => {
        const c = await exchange(s.port, request);
        const status = c.status;
        record({
          area: AREA,
          test: `${what} on /metrics`,
          runtime: rt.name,
          figure: `answer ${status}${c.error ? ` (${c.error})` : ""}`,
          held: status !== "200" && status !== "none",
          command: CMD,
        });
        expect(status === "closed" || /^4\d\d$/.test(status)).toBe(true);
      }, 20_000);
    }
  });
}
