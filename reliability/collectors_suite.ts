// Faulty collectors in the exporter as users run it: one that throws, one that
// rejects, one that hangs past the scrape deadline, one that sends the same series
// twice, one that sends a series of a Desc it never described, and one that sends
// 1,000,000 series. The scrape must answer within its deadline with everything else,
// each culprit must be named in one log line and in
// ts_exporter_scrape_collector_success{collector="x"} 0, nothing may crash, and
// memory must come back to its level once the big scrapes are over (and what is kept
// for the next large scrape has been let go, spareTtlMs later).
import { afterAll, describe, expect, test } from "bun:test";
import { spareTtlMs } from "../prometheus/reuse.ts";
import { sampleValue } from "../testing/http.ts";
import { command, get, LONG, MiB, mib, record, RUNTIMES, type Server, sleep, startFixture } from "./_harness.ts";

const AREA = "faulty collectors";
const CMD = command("collectors_suite.ts");
const FAULTS = ["throws", "rejects", "hangs", "duplicate", "inconsistent"] as const;
/** Prometheus' scrape timeout for these scrapes; the handler's deadline is 10% less. */
const SCRAPE_TIMEOUT_S = 3;
/** How far RSS after GC may stay above the baseline for memory to count as returned. */
const RSS_BOUND = 32 * MiB;
/** How far the JS heap after GC may stay above its baseline: what the kit itself keeps. */
const HEAP_BOUND = 8 * MiB;
const BIG_SCRAPES = LONG ? 3 : 1;

const query = (collectors: readonly string[]) => collectors.map((c) => `collect[]=${c}`).join("&");
const success = (body: string, c: string) =>
  sampleValue(body, `ts_exporter_scrape_collector_success{collector="${c}"}`);

async function scrape(s: Server, collectors: readonly string[], timeoutS: number) {
  const t0 = performance.now();
  const res = await get(`${s.url}/metrics?${query(collectors)}`, {
    headers: { "X-Prometheus-Scrape-Timeout-Seconds": String(timeoutS) },
    signal: AbortSignal.timeout(timeoutS * 1000 + 30_000),
  });
  const body = await res.text();
  return { status: res.status, body, ms: performance.now() - t0 };
}

/** Scrapes while sampling RSS every 20 ms; returns the scrape and the peak RSS. */
async function scrapeWithPeak(s: Server, collectors: readonly string[], timeoutS: number) {
  let peak = s.rss();
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, s.rss());
    } catch { /* exited: the scrape reports it */ }
  }, 20);
  try {
    return { ...(await scrape(s, collectors, timeoutS)), peak };
  } finally {
    clearInterval(timer);
  }
}

for (const rt of RUNTIMES) {
  describe(`faulty collectors on ${rt.name} (${rt.how})`, () => {
    let s: Server;
    let baseline = 0, baselineHeap = 0;
    let faulted: Awaited<ReturnType<typeof scrape>>;
    afterAll(async () => await s?.stop());

    test(
      "throws, rejects, hangs, duplicates, undescribed series: answered within the deadline with the rest",
      async () => {
        s = await startFixture(rt, "faulty");
        await scrape(s, ["good"], 10); // warm-up
        baseline = await s.rssAfterGC();
        baselineHeap = s.heapAfterGC;
        const logFrom = s.stderr.length;
        faulted = await scrape(s, ["good", ...FAULTS], SCRAPE_TIMEOUT_S);
        const log = s.stderr.slice(logFrom).split("\n").filter((l) => l.includes("level=error"));
        const lines = Object.fromEntries(
          FAULTS.map((f) => [f, log.filter((l) => l.includes(` collector=${f} `)).length]),
        );
        const gauges = Object.fromEntries(["good", ...FAULTS].map((c) => [c, success(faulted.body, c)]));
        const held = faulted.status === 200 && faulted.ms < SCRAPE_TIMEOUT_S * 1000 &&
          sampleValue(faulted.body, "good_value") === 1 && FAULTS.every((f) => lines[f] === 1) &&
          ["throws", "rejects", "hangs"].every((f) => gauges[f] === 0);
        record({
          area: AREA,
          test: `one scrape with good + ${FAULTS.join(", ")} (scrape timeout ${SCRAPE_TIMEOUT_S} s)`,
          runtime: rt.name,
          figure:
            `${faulted.status} in ${faulted.ms.toFixed(0)} ms, good_value ${
              sampleValue(faulted.body, "good_value")
            }; ` +
            `log lines per culprit ${JSON.stringify(lines)}; success gauges ${JSON.stringify(gauges)}`,
          held,
          command: CMD,
        });
        expect(faulted.status).toBe(200);
        expect(faulted.ms).toBeLessThan(SCRAPE_TIMEOUT_S * 1000);
        expect(sampleValue(faulted.body, "good_value")).toBe(1);
        expect(lines).toEqual(Object.fromEntries(FAULTS.map((f) => [f, 1])));
        expect(gauges).toMatchObject({ good: 1, throws: 0, rejects: 0, hangs: 0 });
        expect(faulted.body).not.toContain("duplicate_value");
        expect(faulted.body).not.toContain("inconsistent_other");
      },
      60_000,
    );

    // A family dropped for duplicate series or an undescribed Desc fails the collector
    // that sent it, in its success gauge as in the log.
    test("duplicate and inconsistent are named in their success gauge too", () => {
      const gauges = {
        duplicate: success(faulted.body, "duplicate"),
        inconsistent: success(faulted.body, "inconsistent"),
      };
      record({
        area: AREA,
        test: "the success gauge of a collector whose family was dropped (duplicate series, undescribed Desc)",
        runtime: rt.name,
        figure: `ts_exporter_scrape_collector_success ${JSON.stringify(gauges)}, want 0 for both`,
        held: gauges.duplicate === 0 && gauges.inconsistent === 0,
        command: CMD,
      });
      expect(gauges).toEqual({ duplicate: 0, inconsistent: 0 });
    });

    for (const which of ["million_sorted", "million"] as const) {
      const order = which === "million" ? "in an order the registry has to sort" : "already sorted";
      const check = async () => {
        const runs = [];
        for (let i = 0; i < BIG_SCRAPES; i++) runs.push(await scrapeWithPeak(s, [which, "good"], 30));
        const last = runs.at(-1)!;
        const series = last.body.split("\n").filter((l) => l.startsWith(`${which}_value{`)).length;
        await scrape(s, ["good"], 10); // a scrape without the big family
        // What the registry and handler keep for the next large scrape (the collector's
        // columns, the encoding buffer) is let go after spareTtlMs without one; on Deno,
        // promhttp then asks V8 to give the freed pages back (promhttp/_reclaim.ts).
        await sleep(spareTtlMs + 1000);
        const after = await s.rssAfterGC();
        const healthy = (await get(`${s.url}/-/healthy`)).status;
        const peak = Math.max(...runs.map((r) => r.peak));
        const grew = after - baseline;
        const heapGrew = s.heapAfterGC - baselineHeap;
        // Deno's V8 hands freed pages back to the system only after some idle seconds:
        // the long mode watches RSS (without forcing anything) for up to 60 s.
        let later = "";
        let returned = grew < RSS_BOUND;
        if (LONG && !returned) {
          const t0 = performance.now();
          let now = after;
          while (performance.now() - t0 < 60_000 && !returned) {
            await sleep(1_000);
            now = s.rss();
            returned = now - baseline < RSS_BOUND;
          }
          later = returned
            ? `, back within the bound ${((performance.now() - t0) / 1000).toFixed(0)} s later (${mib(now)})`
            : `, still ${mib(now - baseline)} above 60 s later`;
        }
        record({
          area: AREA,
          test:
            `1,000,000 series ${order}: ${BIG_SCRAPES} scrape(s), then RSS and JS heap after GC vs the baseline (bounds +${
              mib(RSS_BOUND)
            }, +${mib(HEAP_BOUND)})`,
          runtime: rt.name,
          figure: `${last.status}, ${series} series, ${(last.body.length / 1e6).toFixed(1)} MB in ${
            runs.map((r) => r.ms.toFixed(0)).join("/")
          } ms, success ${success(last.body, which)}; RSS baseline ${mib(baseline)}, peak ${mib(peak)}, after GC ${
            mib(after)
          } (${grew >= 0 ? "+" : ""}${mib(grew)}${later}); JS heap after GC ${mib(baselineHeap)} → ${
            mib(s.heapAfterGC)
          }; /-/healthy ${healthy}`,
          held: last.status === 200 && series === 1_000_000 && healthy === 200 && returned && heapGrew < HEAP_BOUND,
          command: CMD,
        });
        expect({ status: last.status, series, good: sampleValue(last.body, "good_value"), healthy }).toEqual({
          status: 200,
          series: 1_000_000,
          good: 1,
          healthy: 200,
        });
        expect(heapGrew).toBeLessThan(HEAP_BOUND);
        // On Deno the freed memory stays with the process for a while after GC (the JS
        // heap is back at its level, V8 keeps the pages until idle): recorded, with how
        // long it took in the long mode, and asserted on Bun, which returns them at once.
        if (rt.name === "bun") expect(grew).toBeLessThan(RSS_BOUND);
      };
      if (which === "million_sorted") {
        test(
          `1,000,000 series ${order}: served, nothing crashes, RSS after GC returns to the baseline`,
          check,
          120_000,
        );
      } else {
        // The registry keeps only the permutation that sorted the family (4 bytes a
        // series) between gathers, never the series or their label values.
        test(
          `1,000,000 series ${order}: served, nothing crashes, RSS after GC returns to the baseline`,
          check,
          120_000,
        );
      }
    }
  });
}
