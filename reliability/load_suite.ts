// Load on the exporter as shipped (./exporter, and main.ts on `deno run`) with the
// default in-flight limit of 40: 50 concurrent wrk connections (5 s in the fast mode,
// 60 s in the long mode) get only 200 or 503 and no connection errors; then RSS
// growth over 10,000 scrapes after a warm-up (2,000 in the fast mode) stays under
// 5 MiB, and the open file descriptors come back to their count.
import { afterAll, describe, expect, test } from "bun:test";
import { run } from "../testing/process.ts";
import { command, LONG, MiB, mib, record, RUNTIMES, type Server, sleep, startExporter } from "./_harness.ts";

const AREA = "load";
const CMD = command("load_suite.ts");
const SECONDS = LONG ? 60 : 5;
const CONNECTIONS = 50;
const WARMUP = LONG ? 2_000 : 500;
const SCRAPES = LONG ? 10_000 : 2_000;
const RSS_GROWTH_BOUND = 5 * MiB;

interface Wrk {
  s200: number;
  s503: number;
  other: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  connect: number;
  read: number;
  write: number;
  timeout: number;
  requests: number;
}

async function wrk(url: string): Promise<Wrk> {
  const r = await run(
    "wrk",
    [
      "-t2",
      `-c${CONNECTIONS}`,
      `-d${SECONDS}s`,
      "--timeout",
      "5s",
      "-s",
      "reliability/testdata/count_status.lua",
      url,
    ],
    "",
    (SECONDS + 30) * 1000,
  );
  const n = (re: RegExp) => {
    const m = r.stdout.match(re);
    if (!m) throw new Error(`wrk: no ${re} in its output:\n${r.stdout}\n${r.stderr}`);
    return Number(m[1]);
  };
  return {
    s200: n(/status 200=(\d+)/),
    s503: n(/503=(\d+)/),
    other: n(/other=(\d+)/),
    p50: n(/p50=(\d+)/) / 1000,
    p99: n(/p99=(\d+)/) / 1000,
    p999: n(/p999=(\d+)/) / 1000,
    max: n(/max=(\d+)/) / 1000,
    connect: n(/connect=(\d+)/),
    read: n(/read=(\d+)/),
    write: n(/write=(\d+)/),
    timeout: n(/timeout=(\d+)/),
    requests: n(/requests=(\d+)/),
  };
}

/** `count` scrapes over `parallel` kept-alive connections; returns the statuses seen. */
async function scrapes(url: string, count: number, parallel = 4): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {};
  let left = count;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (left-- > 0) {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      await res.arrayBuffer();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
  }));
  return statuses;
}

/** Waits (at most 5 s) for the descriptor count to come back to `want` or below; returns the last count. */
async function fdsSettle(s: Server, want: number): Promise<number> {
  let n = s.fds();
  for (let i = 0; i < 50 && n > want; i++) {
    await sleep(100);
    n = s.fds();
  }
  return n;
}

for (const rt of RUNTIMES) {
  describe(`load on ${rt.name} (${rt.how}), --web.max-requests=40 (the default)`, () => {
    let s: Server;
    afterAll(async () => await s?.stop());

    test(`${CONNECTIONS} concurrent clients for ${SECONDS} s: only 200 or 503, no connection errors`, async () => {
      s = await startExporter(rt);
      await scrapes(`${s.url}/metrics`, 50, 1);
      const fdsBefore = s.fds(), rssBefore = s.rss();
      const w = await wrk(`${s.url}/metrics`);
      const fdsAfter = await fdsSettle(s, fdsBefore);
      const errors = w.connect + w.read + w.write + w.timeout;
      record({
        area: AREA,
        test: `wrk -t2 -c${CONNECTIONS} -d${SECONDS}s on /metrics`,
        runtime: rt.name,
        figure:
          `${w.requests} requests (${
            (w.requests / SECONDS).toFixed(0)
          }/s): 200 ×${w.s200}, 503 ×${w.s503}, other ×${w.other}; ` +
          `socket errors ${errors}; latency p50 ${w.p50.toFixed(2)} ms, p99 ${w.p99.toFixed(2)} ms, p99.9 ${
            w.p999.toFixed(2)
          } ms, max ${w.max.toFixed(1)} ms; RSS ${mib(rssBefore)} → ${mib(s.rss())}; fds ${fdsBefore} → ${fdsAfter}`,
        held: w.other === 0 && errors === 0 && w.s200 > 0 && fdsAfter <= fdsBefore,
        command: CMD,
      });
      expect({ other: w.other, errors }).toEqual({ other: 0, errors: 0 });
      expect(w.s200).toBeGreaterThan(0);
      // The count may drop: the warm-up's kept-alive connection can be closed meanwhile.
      expect(fdsAfter).toBeLessThanOrEqual(fdsBefore);
    }, (SECONDS + 60) * 1000);

    test(
      `RSS growth over ${SCRAPES} scrapes after ${WARMUP} of warm-up stays under ${
        mib(RSS_GROWTH_BOUND)
      }; descriptors unchanged`,
      async () => {
        const url = `${s.url}/metrics`;
        await scrapes(url, WARMUP);
        const fdsBefore = await fdsSettle(s, s.fds());
        const rssBefore = s.rss();
        const t0 = performance.now();
        const statuses = await scrapes(url, SCRAPES);
        const ms = performance.now() - t0;
        const rssAfter = s.rss();
        const fdsAfter = await fdsSettle(s, fdsBefore);
        const grew = rssAfter - rssBefore;
        record({
          area: AREA,
          test: `RSS over ${SCRAPES} scrapes (4 kept-alive connections) after ${WARMUP} of warm-up`,
          runtime: rt.name,
          figure: `${JSON.stringify(statuses)} in ${(ms / 1000).toFixed(1)} s; RSS ${mib(rssBefore)} → ${
            mib(rssAfter)
          } (${grew >= 0 ? "+" : ""}${mib(grew)}, bound ${mib(RSS_GROWTH_BOUND)}); fds ${fdsBefore} → ${fdsAfter}`,
          held: grew < RSS_GROWTH_BOUND && fdsAfter <= fdsBefore && statuses[200] === SCRAPES,
          command: CMD,
        });
        expect(statuses).toEqual({ 200: SCRAPES });
        expect(grew).toBeLessThan(RSS_GROWTH_BOUND);
        expect(fdsAfter).toBeLessThanOrEqual(fdsBefore);
      },
      120_000,
    );
  });
}
