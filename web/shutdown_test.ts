// Graceful shutdown, which only a whole process shows: web/testdata/blocking_exporter.ts
// runs as a child on this test's runtime (`bun run` under bun test, `deno run` under
// deno test); its collector blocks until the test writes a line to its stdin.
import { afterAll, describe, expect, test } from "bun:test";
import { refusedWithin, sampleValue, within } from "../testing/http.ts";
import { Program } from "../testing/process.ts";

const FIXTURE = "web/testdata/blocking_exporter.ts";

describe("graceful shutdown", () => {
  const programs: Program[] = [];
  afterAll(async () => {
    await Promise.all(programs.map((p) => p.kill()));
  });
  const start = () => {
    const p = new Program(FIXTURE, ["--web.listen-address=127.0.0.1:0"]);
    programs.push(p);
    return p;
  };

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(
      `${signal} during a blocked scrape: the scrape still gets 200, new connections are refused, exit 0`,
      async () => {
        const p = start();
        const port = await p.port();
        const scrape = fetch(`http://127.0.0.1:${port}/metrics`).then(
          async (r) => ({ status: r.status, text: await r.text() }),
          (e) => ({ status: 0, text: String(e) }),
        );
        await p.waitFor(/^collecting$/m);

        p.signal(signal);
        await p.waitFor(new RegExp(`msg="Shutting down" signal=${signal}`));
        await refusedWithin(port);
        // Still blocked: the shutdown waits for the scrape rather than ending it.
        let settled = false;
        scrape.finally(() => settled = true);
        await Promise.resolve();
        expect(settled).toBe(false);
        expect(p.child.exitCode).toBeNull();

        p.writeLine("release");
        const res = await within(10_000, "the in-flight scrape", scrape);
        expect(res.status).toBe(200);
        expect(sampleValue(res.text, "blocking_value")).toBe(1);
        const exit = await within(10_000, "the exit after the scrape", p.exited);
        expect(exit).toEqual({ code: 0, signal: null });
      },
      30_000,
    );
  }

  test("SIGTERM while idle: exit 0 at once", async () => {
    const p = start();
    const port = await p.port();
    expect(await fetch(`http://127.0.0.1:${port}/-/healthy`).then((r) => r.status)).toBe(200);
    expect(await p.stop("SIGTERM", 5000)).toEqual({ code: 0, signal: null });
    expect(p.stderr).not.toContain("did not finish in time");
  }, 30_000);
});
