// The upstream collector against a stand-in upstream on 127.0.0.1, with the kit's
// testutil as a Go exporter's tests use client_golang's.
import { afterAll, describe, expect, test } from "bun:test";
import { Registry } from "@ts-exporter-kit/kit/prometheus";
import { collectAndCompare, collectAndLint } from "@ts-exporter-kit/kit/testutil";
import { newLogger } from "@ts-exporter-kit/kit/web";
import { parseStatus, UpstreamCollector } from "./collector.ts";
import { startUpstream, twoQueues, type Upstream } from "./upstream_test_server.ts";

const quiet = newLogger("error", "logfmt", () => {});
const upstreams: Upstream[] = [];
afterAll(async () => {
  await Promise.all(upstreams.map((u) => u.stop()));
});
async function upstream(answer: () => unknown): Promise<Upstream> {
  const u = await startUpstream(answer);
  upstreams.push(u);
  return u;
}

describe("UpstreamCollector", () => {
  test("exports the document's version and queues", async () => {
    const u = await upstream(() => twoQueues);
    await collectAndCompare(new UpstreamCollector(u.url, 5000, quiet), `
      # HELP upstream_info The upstream's version; always 1.
      # TYPE upstream_info gauge
      upstream_info{version="1.4.2"} 1
      # HELP upstream_queue_depth Jobs waiting in the queue.
      # TYPE upstream_queue_depth gauge
      upstream_queue_depth{queue="default"} 3
      upstream_queue_depth{queue="mail"} 0
      # HELP upstream_queue_processed_total Jobs the queue has processed.
      # TYPE upstream_queue_processed_total counter
      upstream_queue_processed_total{queue="default"} 120
      upstream_queue_processed_total{queue="mail"} 7
      # HELP upstream_queue_failed_total Jobs of the queue that failed.
      # TYPE upstream_queue_failed_total counter
      upstream_queue_failed_total{queue="default"} 2
      upstream_queue_failed_total{queue="mail"} 0
    `);
    expect(u.requests()).toBe(1);
  });

  test("its names pass promlint", async () => {
    const u = await upstream(() => twoQueues);
    expect(await collectAndLint(new UpstreamCollector(u.url, 5000, quiet))).toEqual([]);
  });

  const failures: { name: string; answer: () => unknown; want: string }[] = [
    { name: "an error status", answer: () => new Response("down\n", { status: 503 }), want: ": 503" },
    { name: "not JSON", answer: () => new Response("<html>"), want: "GET http://127.0.0.1" },
    { name: "a field of the wrong type", answer: () => ({ version: "1", queues: [{ name: "q", depth: "3", processed: 1, failed: 0 }] }), want: '"queues[0].depth" is not a number' },
  ];
  for (const f of failures) {
    test(`${f.name}: the collector fails, naming the URL and what was wrong; the gather goes on`, async () => {
      const u = await upstream(f.answer);
      const r = new Registry();
      r.register(new UpstreamCollector(u.url, 5000, quiet));
      const g = await r.gather();
      expect(g.collectors.map((c) => [c.name, c.success])).toEqual([["upstream", false]]);
      expect(g.errors.map((e) => e.message).join("\n")).toContain(f.want);
      expect(g.errors.map((e) => e.message).join("\n")).toContain(u.url);
      g.done();
    });
  }

  test("the scrape's AbortSignal aborts the request to a hanging upstream", async () => {
    const u = await upstream(() => new Promise(() => {}));
    const c = new UpstreamCollector(u.url, 5000, quiet);
    const abort = new AbortController();
    const run = c.collect(() => {}, abort.signal);
    // Wait until the request has reached the upstream, then abort as a deadline would.
    for (let i = 0; i < 200 && u.requests() === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(u.requests()).toBe(1);
    abort.abort(new DOMException("scrape deadline", "TimeoutError"));
    const err = await run.then(() => undefined, (e: unknown) => e);
    expect(err).toBeDefined();
    expect(String((err as Error).name)).toMatch(/AbortError|TimeoutError/);
  });

  test("its timeoutMs (--upstream.timeout) ends a hanging scrape, and the others are served", async () => {
    const u = await upstream(() => new Promise(() => {}));
    const r = new Registry();
    r.register(new UpstreamCollector(u.url, 100, quiet));
    const g = await r.gather();
    expect(g.collectors[0].success).toBe(false);
    expect(g.errors[0].message).toContain("collector upstream missed the deadline");
    g.done();
  });
});

describe("parseStatus", () => {
  const bad: [unknown, string][] = [
    [[], "the document is not a JSON object"],
    [{ queues: [] }, '"version" is not a string'],
    [{ version: "1", queues: {} }, '"queues" is not an array'],
    [{ version: "1", queues: [{ depth: 1 }] }, '"queues[0].name" is not a string'],
    [{ version: "1", queues: [{ name: "a", depth: 1, processed: 1 }] }, '"queues[0].failed" is not a number'],
  ];
  for (const [doc, want] of bad) {
    test(`${JSON.stringify(doc)}: ${want}`, () => {
      expect(() => parseStatus(doc)).toThrow(want);
    });
  }
});
