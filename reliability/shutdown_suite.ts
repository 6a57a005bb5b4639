// Shutdown under load: SIGTERM while 20 scrapes are in flight, held by the fixture's
// blocking collector until the test releases it. Every scrape must complete with 200,
// new connections must be refused meanwhile, and the process must exit 0.
import { afterAll, describe, expect, test } from "bun:test";
import { rawRequest, refusedWithin, sampleValue, within } from "../testing/http.ts";
import { command, record, RUNTIMES, type Server, startFixture } from "./_harness.ts";

const AREA = "shutdown under load";
const CMD = command("shutdown_suite.ts");
const IN_FLIGHT = 20;

for (const rt of RUNTIMES) {
  describe(`shutdown on ${rt.name} (${rt.how})`, () => {
    let s: Server;
    afterAll(async () => await s?.stop());

    test(`SIGTERM with ${IN_FLIGHT} scrapes in flight: all get 200, new connections are refused, exit 0`, async () => {
      s = await startFixture(rt, "blocking");
      // One connection each (node:http without an agent), so that each is in flight on its own.
      const scrapes = Array.from(
        { length: IN_FLIGHT },
        () =>
          rawRequest(s.port, { path: "/metrics", timeoutMs: 30_000 }).then(
            (r) => ({ status: r.status, value: sampleValue(r.text, "blocking_value") }),
            (e) => ({ status: 0, value: undefined, error: String(e) }),
          ),
      );
      await s.waitOutput(/^scrape$/m, IN_FLIGHT);
      const t0 = performance.now();
      s.child.kill("SIGTERM");
      await s.waitOutput(/msg="Shutting down" signal=SIGTERM/);
      const acceptedAfterSignal = await refusedWithin(s.port, 3_000);
      const refusedMs = performance.now() - t0;
      const stillRunning = s.child.exitCode === null;
      s.send("release");
      const results = await within(15_000, "the in-flight scrapes", Promise.all(scrapes));
      const exit = await within(15_000, "the exit", s.exited);
      const exitMs = performance.now() - t0;
      const ok = results.filter((r) => r.status === 200 && r.value === 1).length;
      record({
        area: AREA,
        test: `SIGTERM with ${IN_FLIGHT} scrapes held in flight by a blocking collector, then released`,
        runtime: rt.name,
        figure:
          `${ok}/${IN_FLIGHT} answered 200 with the value; new connections refused ${
            refusedMs.toFixed(0)
          } ms after SIGTERM (${acceptedAfterSignal} accepted before); ` +
          `exit code ${exit.code} (signal ${exit.signal}) ${exitMs.toFixed(0)} ms after SIGTERM`,
        held: ok === IN_FLIGHT && stillRunning && exit.code === 0,
        command: CMD,
      });
      expect(stillRunning).toBe(true);
      expect(results.map((r) => r.status)).toEqual(Array(IN_FLIGHT).fill(200));
      expect(ok).toBe(IN_FLIGHT);
      expect(exit).toEqual({ code: 0, signal: null });
    }, 60_000);
  });
}
