// The connection flags as listenAndServe applies them: the limit bounded by the
// descriptor limit (said in a log line), connections closed at the limit counted in
// <namespace>_http_connections_refused_total and logged once a minute at most, and —
// where the kit's own server enforces them (Deno; Bun with --web.server=kit) — the
// header timeout and the limit over real sockets.
import { afterAll, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { collectAndCompare } from "../testutil/testutil.ts";
import { within } from "../testing/http.ts";
import { sleep } from "../testing/process.ts";
import type { ConnectionLimits } from "./adapter.ts";
import { currentRuntime } from "./capabilities.ts";
import { newLogger } from "./log.ts";
import type { Running } from "./listen_and_serve.ts";
import { RefusedConnections, refusedLogIntervalMs } from "./_connections.ts";
import { startInProcess } from "./testdata/start.ts";

const onDeno = currentRuntime() === "deno";

const running: Running[] = [];
async function start(limits: ConnectionLimits, descriptorLimit?: number) {
  const r = await startInProcess({
    adapter: { descriptorLimit: () => descriptorLimit },
    connectionLimits: limits,
    // Bun enforces them only on the kit's server (--web.server=kit); Deno always does.
    ...(onDeno ? {} : { server: "kit" as const }),
  });
  running.push(r.running);
  return r;
}

/** A client that sends half a header and records when the server closed it. */
function slowClient(port: number): { sock: Socket; closedAt: () => number | undefined } {
  let closedAt: number | undefined;
  const sock = connect(port, "127.0.0.1", () => sock.write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));
  sock.on("error", () => {});
  sock.on("close", () => closedAt ??= performance.now());
  return { sock, closedAt: () => closedAt };
}

const limits = (o: Partial<ConnectionLimits> = {}): ConnectionLimits => ({
  readHeaderTimeoutMs: 10_000,
  idleTimeoutMs: 10_000,
  writeTimeoutMs: 10_000,
  maxConnections: 512,
  ...o,
});

describe("connection limits", () => {
  afterAll(async () => {
    await within(10_000, "shutting down", Promise.all(running.map((r) => r.shutdown())));
  });

  test("the limit is lowered to the descriptor limit minus 64, and said once at start", async () => {
    const { logs } = await start(limits(), 100);
    const lines = logs.filter((l) => l.includes("connection limit lowered"));
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain("max_connections=36");
    expect(lines[0]).toContain("wanted=512");
  });

  test("RefusedConnections counts every one and logs once per interval, with how many", async () => {
    const logs: string[] = [];
    let now = 0;
    const r = new RefusedConnections("ns", newLogger("debug", "logfmt", (l) => logs.push(l)), 7, () => now);
    for (let i = 0; i < 5; i++) r.refused();
    now = refusedLogIntervalMs;
    r.refused();
    expect(logs.length).toBe(2);
    expect(logs[0]).toContain("count=1");
    expect(logs[0]).toContain("max_connections=7");
    expect(logs[1]).toContain("count=5");
    await collectAndCompare(
      r.collector(),
      "# HELP ns_http_connections_refused_total Connections closed because --web.max-connections were open: a new one refused, or one not being answered closed to make room for it.\n" +
        "# TYPE ns_http_connections_refused_total counter\nns_http_connections_refused_total 6\n",
    );
  });

  test("Deno, and Bun with --web.server=kit: a half-sent header is closed after --web.read-header-timeout", async () => {
    const { port } = await start(limits({ readHeaderTimeoutMs: 300 }));
    const t0 = performance.now();
    const c = slowClient(port);
    for (let i = 0; i < 100 && c.closedAt() === undefined; i++) await sleep(20);
    const closedAt = c.closedAt();
    c.sock.destroy();
    expect(closedAt).toBeDefined();
    expect(closedAt! - t0).toBeGreaterThanOrEqual(250);
  });

  test("Deno, and Bun with --web.server=kit: at --web.max-connections the oldest header-sender makes room, counted in the metric", async () => {
    const { port } = await start(limits({ maxConnections: 2 }));
    const a = slowClient(port);
    await sleep(100);
    const b = slowClient(port);
    await sleep(100);
    const c = slowClient(port); // a makes room for it
    for (let i = 0; i < 50 && a.closedAt() === undefined; i++) await sleep(20);
    expect([a.closedAt() !== undefined, b.closedAt(), c.closedAt()]).toEqual([true, undefined, undefined]);
    // The scrape's own connection makes b go.
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { Connection: "close" } });
    const body = await res.text();
    expect(res.status).toBe(200);
    expect(body).toMatch(/^ts_exporter_http_connections_refused_total 2$/m);
    for (const x of [a, b, c]) x.sock.destroy();
  });
});
