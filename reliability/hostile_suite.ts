// Hostile clients (issue 12): what an attacker without credentials, or with a known
// user name, can do to the exporter as shipped, on the compiled binary and on
// `deno run` with the Makefile's DENO_PERMS (plus read access to the web config, as the
// README documents). Each finding of the issue has a test here that failed before the
// fix; the figures go to the "hostile clients" table of RELIABILITY.md. Fast mode keeps
// floods to 3 s and bcrypt cheap; the long mode uses cost 10, 10 s floods and 1,000
// slow-header clients. Every loop is bounded in count and time; every server listens
// on 127.0.0.1.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { spareTtlMs } from "../prometheus/reuse.ts";
import {
  command,
  LONG,
  mib,
  record,
  ROOT,
  type Runtime,
  RUNTIMES,
  SCRATCH,
  Server,
  sleep,
  startFixture,
} from "./_harness.ts";

const AREA = "hostile clients";
const CMD = command("hostile_suite.ts");
const COST = LONG ? 10 : 6;
const FLOOD_MS = LONG ? 10_000 : 3_000;
const SLOW_CLIENTS = LONG ? 1_000 : 200;
/** --web.read-header-timeout for the slow-header clients: the default in long mode. */
const HEADER_TIMEOUT_MS = LONG ? 10_000 : 2_000;
const PASSWORD = "secret";

declare const Bun: { password: { hashSync(p: string, o: { algorithm: "bcrypt"; cost: number }): string } };
const dir = mkdtempSync(join(SCRATCH, "hostile-"));
const webConfig = join(dir, "web.yml");
writeFileSync(
  webConfig,
  `basic_auth_users:\n  prometheus: ${Bun.password.hashSync(PASSWORD, { algorithm: "bcrypt", cost: COST })}\n`,
);
// The floods use cost 10 (the issue's setting) in both modes: at a cheaper cost 50
// wrong-password connections did not stall scrapes even before the fix.
const floodConfig = join(dir, "flood.yml");
writeFileSync(
  floodConfig,
  `basic_auth_users:\n  prometheus: ${Bun.password.hashSync(PASSWORD, { algorithm: "bcrypt", cost: 10 })}\n`,
);
const basic = (user: string, password: string) => "Basic " + btoa(`${user}:${password}`);
const GOOD = basic("prometheus", PASSWORD);

/** argv for `rt` with the web config readable (Deno), under `ulimit -n` when given. */
function argv(rt: Runtime, flags: string[], ulimit?: number): string[] {
  const a = rt.exporter(flags);
  if (rt.name === "deno") a.splice(a.indexOf("main.ts"), 0, `--allow-read=${dir}`);
  return ulimit ? ["/bin/sh", "-c", `ulimit -n ${ulimit}; exec "$@"`, "sh", ...a] : a;
}

function start(rt: Runtime, flags: string[] = [`--web.config.file=${webConfig}`], ulimit?: number): Promise<Server> {
  return Server.start(`exporter on ${rt.name}`, (listen) => argv(rt, [listen, ...flags], ulimit));
}

/** One timed request; status 0 when it failed or took more than `ms`. */
async function timed(url: string, auth?: string, ms = 10_000): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { headers: auth ? { Authorization: auth } : {}, signal: AbortSignal.timeout(ms) });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - t0 };
  } catch {
    return { status: 0, ms: performance.now() - t0 };
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;
const f0 = (x: number) => x.toFixed(0);

/**
 * `conns` loops sending `auth` to /metrics for FLOOD_MS while /-/healthy is timed
 * every 50 ms and a scrape with the right credentials every fourth time; then how long
 * until a scrape succeeds again. The flood and the probes share this process, so a
 * probe's time includes waiting for its own event loop: a ceiling, not the server's
 * figure alone.
 */
async function flood(s: Server, conns: number, auth: (i: number) => string) {
  const end = performance.now() + FLOOD_MS;
  const statuses = new Map<number, number>();
  let n = 0;
  const loops = Array.from({ length: conns }, async () => {
    while (performance.now() < end) {
      const r = await timed(`${s.url}/metrics`, auth(n++), FLOOD_MS + 5_000);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
  });
  const scrapes: number[] = [], healthy: number[] = [], scrapeStatuses = new Set<number>();
  const probe = (async () => {
    await sleep(300);
    while (performance.now() < end) {
      const h = await timed(`${s.url}/-/healthy`, undefined, 5_000);
      healthy.push(h.status === 200 ? h.ms : Infinity);
      if (healthy.length % 4 === 0) {
        const m = await timed(`${s.url}/metrics`, GOOD, 15_000);
        scrapes.push(m.ms);
        scrapeStatuses.add(m.status);
      }
      await sleep(50);
    }
  })();
  await Promise.all([...loops, probe]);
  const t0 = performance.now();
  let after = await timed(`${s.url}/metrics`, GOOD, 30_000);
  while (after.status !== 200 && performance.now() - t0 < 30_000) after = await timed(`${s.url}/metrics`, GOOD, 30_000);
  return {
    statuses,
    n,
    scrapes,
    healthy,
    scrapeStatuses,
    recoveredMs: after.status === 200 ? performance.now() - t0 : Infinity,
  };
}

/** The exporter's count of connections closed at the connection limit. */
async function refusedTotal(s: Server): Promise<number> {
  const res = await fetch(`${s.url}/metrics`, { signal: AbortSignal.timeout(5_000) });
  return Number((await res.text()).match(/^ts_exporter_http_connections_refused_total (\S+)$/m)?.[1] ?? NaN);
}

/** Opens `n` connections that send part of a request line and stop. */
async function slowClients(port: number, n: number, text: string): Promise<Socket[]> {
  const socks = Array.from({ length: n }, () => {
    const c = connect(port, "127.0.0.1");
    c.on("error", () => {});
    c.on("connect", () => c.write(text));
    return c;
  });
  await sleep(1_000);
  return socks;
}

/**
 * Bun on the kit's HTTP/1.1 server (--web.server=kit): the header timeout is the
 * flag's and --web.max-connections is enforced, as on Deno; Bun.serve (the default)
 * can do neither.
 */
const BUN_KIT: Runtime = {
  ...RUNTIMES[0],
  how: `${RUNTIMES[0].how}, --web.server=kit`,
  exporter: (flags) => RUNTIMES[0].exporter(["--web.server=kit", ...flags]),
  fixture: (scenario, flags) => RUNTIMES[0].fixture(scenario, ["--web.server=kit", ...flags]),
};

for (const rt of [RUNTIMES[0], BUN_KIT, ...RUNTIMES.slice(1)]) {
  /** The runtime column of the figures: Bun's two servers told apart. */
  const label = rt === BUN_KIT ? "Bun, ./exporter --web.server=kit" : rt.name;
  /** Served by the kit's own HTTP/1.1 server (web/_http1.ts), which enforces every connection flag. */
  const kitServer = rt === BUN_KIT || rt.name === "deno";
  describe(`hostile clients on ${rt.name} (${rt.how})`, () => {
    const servers: Server[] = [];
    const started = async (flags?: string[], ulimit?: number) => {
      const s = await start(rt, flags, ulimit);
      servers.push(s);
      return s;
    };
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.stop()));
    });

    test(
      `finding 1/9: a wrong password and an unknown user take the same time (median of 100 each, cost ${COST})`,
      async () => {
        const s = await started();
        const known: number[] = [], unknown: number[] = [];
        for (let i = 0; i < 100; i++) {
          known.push((await timed(`${s.url}/metrics`, basic("prometheus", `wrong-${i}`))).ms);
          unknown.push((await timed(`${s.url}/metrics`, basic(`nobody-${i}`, `wrong-${i}`))).ms);
        }
        const ratio = median(unknown) / median(known);
        record({
          area: AREA,
          test: `timing: median of 100 logins, known user with a wrong password vs unknown user (bcrypt cost ${COST})`,
          runtime: label,
          figure: `known ${median(known).toFixed(1)} ms, unknown ${median(unknown).toFixed(1)} ms (ratio ${
            ratio.toFixed(2)
          }; before the fix on Bun ~3 vs ~85 ms at cost 10)`,
          held: ratio > 0.6 && ratio < 1.7,
          command: CMD,
        });
        expect(ratio).toBeGreaterThan(0.6);
      },
      120_000,
    );

    for (
      const [what, conns, auth] of [
        ["unknown-user flood (20 connections)", 20, (i: number) => basic(`user-${i}`, "x")],
        ["wrong-password flood (50 connections)", 50, (i: number) => basic("prometheus", `wrong-${i}`)],
      ] as const
    ) {
      test(`findings 1/4: ${what} for ${FLOOD_MS / 1000} s: scrapes and /-/healthy keep answering`, async () => {
        const s = await started([`--web.config.file=${floodConfig}`]);
        expect((await timed(`${s.url}/metrics`, GOOD)).status).toBe(200); // Prometheus' login is cached
        const r = await flood(s, conns, auth);
        const healthP50 = median(r.healthy), healthP90 = pct(r.healthy, 0.9);
        const held = healthP50 < 50 && healthP90 < 250 && Math.max(...r.scrapes) < 2_000 && r.recoveredMs < 1_000;
        record({
          area: AREA,
          test: `${what}, ${FLOOD_MS / 1000} s, bcrypt cost 10`,
          runtime: label,
          figure: `${r.n} flood requests: ${[...r.statuses].map(([k, v]) => `${k || "failed"} ×${v}`).join(", ")}; ` +
            `scrape with Prometheus' credentials during: median ${f0(median(r.scrapes))} ms, max ${
              f0(Math.max(...r.scrapes))
            } ms (statuses ${[...r.scrapeStatuses].join(",")}); ` +
            `/-/healthy during (${r.healthy.length} probes): median ${f0(healthP50)} ms, p90 ${f0(healthP90)} ms, max ${
              f0(Math.max(...r.healthy))
            } ms; ` +
            `after: first scrape 200 in ${f0(r.recoveredMs)} ms`,
          held,
          command: CMD,
        });
        // Bounds with slack for a shared 2-core machine: before the fix the median was
        // 3-4 s on Deno (bcrypt on the event loop) and scrapes waited ~46 s on Bun.
        expect(healthP50).toBeLessThan(50);
        expect(healthP90).toBeLessThan(250);
        expect(Math.max(...r.scrapes)).toBeLessThan(2_000);
        expect(r.recoveredMs).toBeLessThan(1_000);
      }, FLOOD_MS + 90_000);
    }

    test("finding 2: 300 keep-alive connections at ulimit -n 256 do not kill the process", async () => {
      const s = await started([], 256);
      const socks = await slowClients(s.port, 300, "GET /-/healthy HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      const fdsDuring = s.fds();
      const during = await timed(`${s.url}/-/healthy`, undefined, 3_000);
      for (const c of socks) c.destroy();
      let after = { status: 0, ms: 0 };
      const t0 = performance.now();
      while (after.status !== 200 && performance.now() - t0 < 10_000 && s.child.exitCode === null) {
        after = await timed(`${s.url}/-/healthy`, undefined, 2_000);
        if (after.status !== 200) await sleep(200);
      }
      const alive = s.child.exitCode === null && s.child.signalCode === null;
      // The exporter's own lines; Deno itself may warn once that it could not load the
      // system's CA certificates while no descriptor was free.
      const logLines = s.stderr.split("\n").filter((l) =>
        l.startsWith("ts=") && l.includes("Too many open files")
      ).length;
      record({
        area: AREA,
        test: "300 keep-alive connections against ulimit -n 256",
        runtime: label,
        figure:
          `fds during ${fdsDuring}; /-/healthy during: ${during.status || "no answer"}; process ${
            alive ? "alive" : `exited (${s.child.exitCode ?? s.child.signalCode})`
          }; ` +
          `after the clients left: /-/healthy ${after.status} within ${
            f0(performance.now() - t0)
          } ms; "Too many open files" log lines: ${logLines}`,
        held: alive && after.status === 200 && logLines <= 1,
        command: CMD,
      });
      expect(alive).toBe(true);
      expect(after.status).toBe(200);
      expect(logLines).toBeLessThanOrEqual(1);
    }, 60_000);

    // --web.read-header-timeout bounds them on the kit's own server (Deno; Bun with
    // --web.server=kit); Bun.serve closes them itself after ~10-12 s whatever the flag
    // says. On the kit's server --web.max-connections (default 512) also bounds the
    // descriptors while they last: beyond it, the oldest still sending its header makes
    // room for a new connection.
    test(
      `${SLOW_CLIENTS} slow-header clients: a scrape still answers; closed after the header timeout, descriptors freed`,
      async () => {
        // Bun.serve refuses the flag at start (it cannot apply it): its own ~10-12 s holds.
        const s = await started(kitServer ? [`--web.read-header-timeout=${HEADER_TIMEOUT_MS / 1000}s`] : []);
        const fds0 = s.fds(), rss0 = s.rss();
        const t0 = performance.now();
        const socks = await slowClients(s.port, SLOW_CLIENTS, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
        const fds1 = s.fds(), rss1 = s.rss();
        const scrape = await timed(`${s.url}/metrics`, undefined, 5_000);
        // Bun's own header timeout is ~10-12 s (uWebSockets), not the flag's.
        const bound = Math.max(HEADER_TIMEOUT_MS, kitServer ? 0 : 12_000) + 5_000;
        const open = () => socks.filter((c) => !c.destroyed && c.readyState !== "closed").length;
        while (performance.now() - t0 < bound && open() > 0) await sleep(100);
        const closedIn = (performance.now() - t0) / 1000;
        const closed = socks.length - open();
        await sleep(300);
        const fds2 = s.fds();
        for (const c of socks) c.destroy();
        const refused = kitServer ? await refusedTotal(s) : NaN;
        const cap = 512 + 64; // the default limit, plus the process' own descriptors and slack
        const bounded = !kitServer || fds1 <= cap;
        // A few descriptors more than before are the runtime's own (Bun: 7 → 11 whatever
        // the number of clients); the clients' are all gone.
        const held = scrape.status === 200 && closed === socks.length && fds2 <= fds0 + 8 && bounded;
        record({
          area: AREA,
          test: `${SLOW_CLIENTS} clients that stop after half a header, ${
            kitServer ? `--web.read-header-timeout=${HEADER_TIMEOUT_MS / 1000}s` : "Bun.serve's own header timeout"
          }`,
          runtime: label,
          figure:
            `scrape during: ${scrape.status} in ${
              f0(scrape.ms)
            } ms; fds ${fds0} → ${fds1} → ${fds2} after they were closed; RSS ${mib(rss0)} → ${mib(rss1)} → ${
              mib(s.rss())
            }; ` +
            `${closed} of ${socks.length} closed by the server ${
              closed === socks.length ? `within ${closedIn.toFixed(1)} s` : `in ${closedIn.toFixed(1)} s`
            }` +
            (kitServer
              ? `; --web.max-connections 512: ${refused} closed to make room or refused (ts_exporter_http_connections_refused_total)`
              : ""),
          held,
          command: CMD,
        });
        expect(scrape.status).toBe(200);
        expect(closed).toBe(socks.length);
        expect(fds2).toBeLessThanOrEqual(fds0 + 8);
        expect(fds1 <= cap || !kitServer).toBe(true);
      },
      90_000,
    );

    // Bounded by promhttp/: the in-flight place is held only while gathering and
    // encoding, concurrent scrapes share one encoding, and a body not taken within the
    // write timeout is aborted. Other scrapes must keep answering on both runtimes, and
    // RSS come back within 20 MiB (asserted in the long mode, which waits 10 s for it; on
    // Deno promhttp asks V8 to give the pages back a few seconds after large scrapes
    // stop, see promhttp/_reclaim.ts; reliability/slow_readers_suite.ts measures more).
    test("finding 3: 40 clients that request a 200k-series body and never read", async () => {
      const s = await startFixture(rt, "large");
      servers.push(s);
      await timed(`${s.url}/metrics`, undefined, 30_000); // warm-up: one full scrape
      // Measured as after the clients: once what is kept for the next large scrape has
      // expired (and, on Deno, been given back).
      await sleep(spareTtlMs + 1000);
      const rss0 = s.rss();
      const socks = await slowClients(s.port, 40, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      for (const c of socks) c.pause();
      await sleep(2_000);
      let peak = s.rss();
      const during: number[] = [];
      for (let i = 0; i < 3; i++) {
        during.push((await timed(`${s.url}/metrics`, undefined, 15_000)).status);
        peak = Math.max(peak, s.rss());
      }
      const health = await timed(`${s.url}/-/healthy`, undefined, 5_000);
      for (const c of socks) c.destroy();
      await sleep(LONG ? 10_000 : spareTtlMs + 2000);
      const rssAfter = s.rss();
      const held = during.every((x) => x === 200) && rssAfter - rss0 < 20 * 1024 * 1024;
      record({
        area: AREA,
        test: "40 clients requesting a 200k-series body (~6 MB) that never read",
        runtime: label,
        figure:
          `other scrapes during: ${during.join(", ")}; /-/healthy ${health.status} in ${f0(health.ms)} ms; RSS ${
            mib(rss0)
          } → peak ${mib(peak)} → ${mib(rssAfter)} ` +
          `${LONG ? 10 : (spareTtlMs + 2000) / 1000} s after they left (bound +20 MiB)`,
        held,
        command: CMD,
      });
      expect(health.status).toBe(200);
      expect(s.child.exitCode).toBe(null);
      expect(during).toEqual([200, 200, 200]);
      if (LONG) expect(rssAfter - rss0).toBeLessThan(20 * 1024 * 1024);
    }, 120_000);

    test(
      "finding 5: a web config rewritten to 'basic_auth_users:' is refused at reload, never 200 without credentials",
      async () => {
        const file = join(dir, `reload-${rt.name}.yml`);
        const good = `basic_auth_users:\n  prometheus: ${
          Bun.password.hashSync(PASSWORD, { algorithm: "bcrypt", cost: 4 })
        }\n`;
        writeFileSync(file, good);
        const s = await started([`--web.config.file=${file}`]);
        const seen = new Set<number>();
        for (const text of ["basic_auth_users:\n", "# halfway\n"]) {
          writeFileSync(file, text);
          const t0 = performance.now();
          while (performance.now() - t0 < 2_600) {
            seen.add((await timed(`${s.url}/metrics`)).status);
            await sleep(100);
          }
        }
        const ready = (await timed(`${s.url}/-/ready`)).status;
        writeFileSync(file, good);
        record({
          area: AREA,
          test: "web config rewritten to 'basic_auth_users:', then comment-only (each for 2.6 s, reload every 2 s)",
          runtime: label,
          figure: `/metrics without credentials answered ${
            [...seen].sort().join(", ")
          }; /-/ready ${ready}; error lines ${(s.stderr.match(/refused at reload/g) ?? []).length}`,
          held: !seen.has(200) && ready === 503,
          command: CMD,
        });
        expect(seen.has(200)).toBe(false);
        expect(ready).toBe(503);
      },
      30_000,
    );

    test(
      "findings 6/7/9: unusable Host is a quiet 400; Host never chooses the path; HTTP/1.0 without Host; nosniff",
      async () => {
        const s = await started();
        const raw = (text: string) =>
          new Promise<string>((resolve) => {
            let got = "";
            const c = connect(s.port, "127.0.0.1", () => c.write(text));
            c.on("data", (d: Uint8Array) => got += new TextDecoder().decode(d));
            c.on("error", () => {});
            c.on("close", () => resolve(got));
            setTimeout(() => c.destroy(), 2_000);
          });
        const linesBefore = s.stderr.split("\n").length;
        const bad = new Map<string, number>();
        for (let i = 0; i < 500; i++) {
          const st = (await raw(`GET /metrics HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n`)).slice(9, 12);
          bad.set(st, (bad.get(st) ?? 0) + 1);
        }
        const logLines = s.stderr.split("\n").length - linesBefore;
        const hostPath = await raw("GET /-/healthy HTTP/1.1\r\nHost: x/metrics?\r\nConnection: close\r\n\r\n");
        const http10 = await raw("GET /-/healthy HTTP/1.0\r\n\r\n");
        const denied = await raw("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        const nosniff = [hostPath, http10, denied].every((r) => /\r\nx-content-type-options: nosniff\r\n/i.test(r));
        const held = bad.get("400") === 500 && logLines <= 1 && hostPath.startsWith("HTTP/1.1 400") &&
          !hostPath.includes("# TYPE") &&
          /^HTTP\/1\.[01] 200/.test(http10) && nosniff;
        record({
          area: AREA,
          test: "500 × 'Host: a b'; 'Host: x/metrics?' on /-/healthy; HTTP/1.0 without Host; nosniff",
          runtime: label,
          figure: `Host: a b → ${
            [...bad].map(([k, v]) => `${k} ×${v}`).join(", ")
          }, ${logLines} log line(s); Host: x/metrics? → ${hostPath.slice(0, 12)}${
            hostPath.includes("# TYPE") ? " WITH METRICS" : ""
          }; ` +
            `HTTP/1.0 no Host → ${http10.slice(0, 12)}; nosniff on all: ${nosniff}`,
          held,
          command: CMD,
        });
        expect(held).toBe(true);
      },
      60_000,
    );

    test(
      "findings 8/9: starts with a web config under the documented permissions; cost 31 and a 2 MiB file are refused naming the culprit",
      async () => {
        const c31 = join(dir, "cost31.yml");
        writeFileSync(c31, `basic_auth_users:\n  mallory: ${"$2y$31$" + "a".repeat(53)}\n`);
        const big = join(dir, "big.yml");
        writeFileSync(big, `# ${"x".repeat(2 * 1024 * 1024)}\n`);
        const out: string[] = [];
        for (const f of [c31, big]) {
          const a = argv(rt, ["--web.listen-address=127.0.0.1:0", `--web.config.file=${f}`]);
          const r = spawnSync(a[0], a.slice(1), { cwd: ROOT, encoding: "utf8", timeout: 20_000 });
          out.push(`exit ${r.status}: ${(r.stderr.match(/err="?([^\n]*)/)?.[1] ?? r.stderr).replaceAll(dir, "DIR")}`);
        }
        const s = await started();
        const ok = (await timed(`${s.url}/metrics`, GOOD)).status;
        const held = ok === 200 && /^exit 1: .*basic_auth_users\.mallory: bcrypt cost 31 is outside/.test(out[0]) &&
          /^exit 1: .*2097155 bytes, more than the 1048576/.test(out[1]);
        record({
          area: AREA,
          test: "start with a web config under DENO_PERMS + --allow-read of its folder; cost 31; a 2 MiB file",
          runtime: label,
          figure: `scrape with credentials ${ok}; cost 31 → ${out[0].slice(0, 150)}; 2 MiB → ${out[1].slice(0, 150)}`,
          held,
          command: CMD,
        });
        expect(held).toBe(true);
      },
      60_000,
    );
  });
}
