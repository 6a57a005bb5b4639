// The metrics handler over real HTTP: a server on a loopback port, real requests.
// Concurrency is driven by promises the test resolves, never by sleeps; elapsed
// time is measured only where the deadline itself is the contract.
import { afterAll, describe, expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { markExporterMetrics } from "../prometheus/collector.ts";
import type { Collector } from "../prometheus/collector.ts";
import {
  BlockingCollector,
  CountingCollector,
  deferred,
  FailingCollector,
  type Failure,
  familyNames,
  rawRequest,
  registryWith,
  sampleValue,
  Servers,
  within,
} from "../testing/http.ts";
import { defaultNamespace as NS, selectableCollectors } from "./collector_metrics.ts";
import { newCounter, newCounterVec } from "../prometheus/counter.ts";
import { newDesc } from "../prometheus/desc.ts";
import { formatValue } from "../prometheus/expfmt.ts";
import { GaugeValue, mustNewConstMetric } from "../prometheus/value.ts";
import { largeExposition } from "./_body.ts";
import {
  ContinueOnError,
  type ErrorLog,
  type Handler,
  handlerFor,
  type HandlerOpts,
  HTTPErrorOnError,
} from "./handler.ts";

// As client_golang 1.24: the Content-Type names the escaping scheme the names were written with.
const TEXT = "text/plain; version=0.0.4; charset=utf-8; escaping=underscores";

/** An errorLog that keeps its lines. */
function recordingLog(): { log: ErrorLog; lines: { message: string; fields: Record<string, string> }[] } {
  const lines: { message: string; fields: Record<string, string> }[] = [];
  return { log: (message, fields) => lines.push({ message, fields }), lines };
}

async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const failures: { how: Failure; err: string }[] = [
  { how: "throws", err: "x exploded" },
  { how: "rejects", err: "x was rejected" },
  { how: "hangs", err: "missed the deadline" },
];

describe("a failing collector", () => {
  const servers = new Servers();
  afterAll(() => servers.stopAll());
  const deadlineMs = 300;

  for (const { how, err } of failures) {
    test(`that ${how}: 200 within the deadline, the rest served, counted, logged once (ContinueOnError)`, async () => {
      const { log, lines } = recordingLog();
      const registry = registryWith(new CountingCollector("ok"), new FailingCollector("x", how));
      const srv = await servers.serve(
        handlerFor(registry, { errorHandling: ContinueOnError, errorLog: log, timeoutMs: deadlineMs }),
      );

      const start = performance.now();
      const first = await get(`${srv.base}/metrics`);
      const elapsed = performance.now() - start;

      expect(elapsed).toBeLessThanOrEqual(deadlineMs + 100);
      expect(first.status).toBe(200);
      expect(sampleValue(first.text, "ok_value")).toBe(1);
      expect(sampleValue(first.text, "x_value")).toBeUndefined();
      expect(sampleValue(first.text, `${NS}_scrape_collector_success{collector="ok"}`)).toBe(1);
      expect(sampleValue(first.text, `${NS}_scrape_collector_success{collector="x"}`)).toBe(0);
      expect(sampleValue(first.text, 'promhttp_metric_handler_errors_total{cause="gathering"}')).toBe(0);
      expect(lines).toHaveLength(1);
      expect(lines[0].fields.collector).toBe("x");
      expect(lines[0].fields.err).toContain(err);

      // The handler's own counters are gathered before the scrape counts its error.
      const next = await get(`${srv.base}/metrics`);
      expect(sampleValue(next.text, 'promhttp_metric_handler_errors_total{cause="gathering"}')).toBe(1);
    });

    test(`that ${how}: 500 naming the collector and the error (HTTPErrorOnError)`, async () => {
      const { log } = recordingLog();
      const registry = registryWith(new CountingCollector("ok"), new FailingCollector("x", how));
      const srv = await servers.serve(
        handlerFor(registry, { errorHandling: HTTPErrorOnError, errorLog: log, timeoutMs: deadlineMs }),
      );
      const start = performance.now();
      const res = await get(`${srv.base}/metrics`);
      expect(performance.now() - start).toBeLessThanOrEqual(deadlineMs + 100);
      expect(res.status).toBe(500);
      expect(res.text).toContain("collector x");
      expect(res.text).toContain(err);
      expect(res.text).not.toContain("ok_value");
    });
  }
});

describe("the in-flight limit", () => {
  const servers = new Servers();
  afterAll(() => servers.stopAll());

  test("limit 1: a second scrape during a blocked one gets 503, later ones 200, and it is counted", async () => {
    const blocked = new BlockingCollector("blocked");
    const srv = await servers.serve(handlerFor(registryWith(blocked), { maxRequestsInFlight: 1, errorLog: () => {} }));

    const first = get(`${srv.base}/metrics`);
    await within(2000, "first scrape reaching the collector", blocked.started.promise);

    const second = await get(`${srv.base}/metrics`);
    expect(second.status).toBe(503);
    expect(second.text).toBe("Limit of concurrent requests reached (1), try again later.\n");

    blocked.release();
    const firstRes = await within(2000, "first scrape after release", first);
    expect(firstRes.status).toBe(200);
    expect(sampleValue(firstRes.text, "blocked_value")).toBe(1);

    const third = await get(`${srv.base}/metrics`);
    expect(third.status).toBe(200);
    expect(sampleValue(third.text, 'promhttp_metric_handler_requests_total{code="503"}')).toBe(1);
    expect(sampleValue(third.text, 'promhttp_metric_handler_requests_total{code="200"}')).toBe(1);
  });
});

describe("concurrent scrapes", () => {
  const servers = new Servers();
  afterAll(() => servers.stopAll());

  test("four scrapes of a blocked collector run its collect once and all get its output", async () => {
    const blocked = new BlockingCollector("blocked");
    const h = handlerFor(registryWith(blocked));
    // The handler joins a running collect synchronously, before its first await, so
    // a request has joined once h(req) has returned its promise.
    let arrived = 0;
    const allJoined = deferred();
    const srv = await servers.serve((req) => {
      const p = h(req);
      if (++arrived === 4) allJoined.resolve();
      return p;
    });

    const scrapes = [1, 2, 3, 4].map(() => get(`${srv.base}/metrics`));
    await within(2000, "four scrapes reaching the handler", allJoined.promise);
    blocked.release();
    const results = await within(2000, "four scrapes after release", Promise.all(scrapes));

    expect(blocked.calls).toBe(1);
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(sampleValue(r.text, "blocked_value")).toBe(1);
    }
  });
});

describe("gzip", () => {
  const servers = new Servers();
  afterAll(() => servers.stopAll());

  // Marked as the exporter's own metrics so that they get no per-collector duration
  // series, and no promhttp_* counters: every scrape of this registry is byte-equal.
  const deterministic = (): Collector[] => [
    markExporterMetrics(new CountingCollector("alpha")),
    markExporterMetrics(new CountingCollector("beta")),
  ];
  const serve = (opts: HandlerOpts = {}) =>
    servers.serve(handlerFor(registryWith(...deterministic()), { registry: null, ...opts }));

  const cases: { name: string; acceptEncoding: string; gzip: boolean }[] = [
    { name: "gzip", acceptEncoding: "gzip", gzip: true },
    { name: "what browsers send", acceptEncoding: "gzip, deflate, br", gzip: true },
    { name: "x-gzip", acceptEncoding: "x-gzip", gzip: true },
    { name: "any coding", acceptEncoding: "*", gzip: true },
    { name: "gzip refused with q=0", acceptEncoding: "gzip;q=0", gzip: false },
    { name: "gzip refused, anything else welcome", acceptEncoding: "gzip;q=0, *", gzip: false },
    { name: "only identity", acceptEncoding: "identity", gzip: false },
    { name: "only codings the handler lacks", acceptEncoding: "br, deflate", gzip: false },
  ];

  test("identity bodies of one registry are byte-equal (the premise of the gzip cases)", async () => {
    const srv = await serve();
    const a = await rawRequest(srv.port, { path: "/metrics" });
    const b = await rawRequest(srv.port, { path: "/metrics" });
    expect(a.text).toBe(b.text);
    expect(a.text).toContain("alpha_value 1");
  });

  for (const c of cases) {
    test(`Accept-Encoding ${JSON.stringify(c.acceptEncoding)} (${c.name}): ${c.gzip ? "gzip" : "identity"}`, async () => {
      const srv = await serve();
      const identity = await rawRequest(srv.port, { path: "/metrics" });
      const res = await rawRequest(srv.port, { path: "/metrics", headers: { "Accept-Encoding": c.acceptEncoding } });
      expect(res.status).toBe(200);
      expect(res.headers["vary"]).toBe("Accept, Accept-Encoding");
      expect(identity.headers["content-encoding"]).toBeUndefined();
      if (c.gzip) {
        expect(res.headers["content-encoding"]).toBe("gzip");
        expect(new TextDecoder().decode(gunzipSync(res.body))).toBe(identity.text);
      } else {
        expect(res.headers["content-encoding"]).toBeUndefined();
        expect(res.text).toBe(identity.text);
      }
    });
  }

  test("large bodies (encoded in slices, buffers reused): concurrent scrapes, gzip or not, each get their own exposition", async () => {
    // Two registries over largeExposition series, whose values change on every scrape:
    // a buffer shared by two scrapes, or reused before gzip read it, shows as a body
    // that is not the exposition of its own registry and scrape.
    const big = (tag: string) => {
      let scrape = 0;
      const desc = newDesc(`big_${tag}`, "Many series.", ["id"]);
      const c: Collector = {
        name: `big_${tag}`,
        describe: (ch) => ch(desc),
        collect: (ch) => {
          scrape++;
          for (let i = 0; i < largeExposition + 50_000; i++) {
            ch(mustNewConstMetric(desc, GaugeValue, scrape * 1e6 + i, `${tag}-${i}`));
          }
        },
      };
      return handlerFor(registryWith(c), { registry: null });
    };
    const handlers = { a: big("a"), b: big("b") };
    // Bodies are read only after all three answered: one whose buffer went back to the
    // pool before its Response copied it would show another scrape's series.
    // The second scrape of "a" asks with another query, so that it is gathered on its
    // own rather than sharing the first one's encoding (see "shared encodings").
    const scrape = async (tag: "a" | "b", gzip: boolean, query = "") => {
      const res = await handlers[tag](
        new Request(`http://x/metrics${query}`, { headers: gzip ? { "Accept-Encoding": "gzip" } : {} }),
      );
      expect(res.headers.get("content-encoding")).toBe(gzip ? "gzip" : null);
      return async () => {
        const bytes = new Uint8Array(await res.arrayBuffer());
        return new TextDecoder().decode(gzip ? gunzipSync(bytes) : bytes);
      };
    };
    for (let round = 1; round <= 4; round++) {
      const gzip = round % 2 === 0;
      const answered = await Promise.all([scrape("a", gzip), scrape("b", !gzip), scrape("a", gzip, "?name[]=big_a")]);
      const [a1, b1, a2] = await Promise.all(answered.map((read) => read()));
      for (const [text, tag, n] of [[a1, "a", 2 * round - 1], [b1, "b", round], [a2, "a", 2 * round]] as const) {
        const lines = text.split("\n").filter((l) => l.startsWith(`big_${tag}{`));
        expect(lines.length).toBe(largeExposition + 50_000);
        expect(lines[0]).toBe(`big_${tag}{id="${tag}-0"} ${formatValue(n * 1e6)}`);
        expect(lines.at(-1)).toBe(`big_${tag}{id="${tag}-9999"} ${formatValue(n * 1e6 + 9999)}`);
        expect(
          lines.every((l) =>
            l.startsWith(`big_${tag}{id="${tag}-`) &&
            l.endsWith(` ${formatValue(n * 1e6 + Number(l.slice(l.indexOf("-") + 1, l.indexOf('"}'))))}`)
          ),
        ).toBe(true);
      }
    }
  });

  test("disableCompression: identity even when gzip is asked for", async () => {
    const srv = await serve({ disableCompression: true });
    const identity = await rawRequest(srv.port, { path: "/metrics" });
    const res = await rawRequest(srv.port, { path: "/metrics", headers: { "Accept-Encoding": "gzip" } });
    expect(res.headers["content-encoding"]).toBeUndefined();
    expect(res.text).toBe(identity.text);
  });

  test("a scrape's answer: status 200, no status text, exactly its negotiated fields", async () => {
    const h = handlerFor(registryWith(new CountingCollector("alpha")), { registry: null });
    const answers: [string, number, string, [string, string][]][] = [];
    for (const [method, headers] of [["GET", {}], ["GET", { "Accept-Encoding": "gzip" }], ["HEAD", {}]] as const) {
      const res = await h(new Request("http://localhost/metrics", { method, headers }));
      answers.push([method, res.status, res.statusText, [...res.headers].sort()]);
      await res.body?.cancel();
    }
    const plain: [string, string][] = [[
      "content-type",
      "text/plain; version=0.0.4; charset=utf-8; escaping=underscores",
    ], [
      "vary",
      "Accept, Accept-Encoding",
    ]];
    expect(answers).toEqual([
      ["GET", 200, "", plain],
      ["GET", 200, "", [["content-encoding", "gzip"], ...plain]],
      ["HEAD", 200, "", plain],
    ]);
  });

  test("Vary: Accept, Accept-Encoding on every successful metrics response", async () => {
    const srv = await servers.serve(
      handlerFor(registryWith(new CountingCollector("alpha")), { enableOpenMetrics: true }),
    );
    const variants: { name: string; method?: string; path?: string; headers?: Record<string, string> }[] = [
      { name: "plain GET" },
      { name: "HEAD", method: "HEAD" },
      { name: "gzip", headers: { "Accept-Encoding": "gzip" } },
      { name: "OpenMetrics", headers: { "Accept": "application/openmetrics-text;version=1.0.0" } },
      {
        name: "OpenMetrics 0.0.1, gzip",
        headers: { "Accept": "application/openmetrics-text;version=0.0.1", "Accept-Encoding": "gzip" },
      },
      { name: "name[] filter", path: "/metrics?name[]=alpha_value" },
      { name: "collect[] selection", path: "/metrics?collect[]=alpha" },
    ];
    for (const v of variants) {
      const res = await rawRequest(srv.port, { method: v.method, path: v.path ?? "/metrics", headers: v.headers });
      expect(`${v.name}: ${res.status} ${res.headers["vary"]}`).toBe(`${v.name}: 200 Accept, Accept-Encoding`);
    }
  });
});

describe("name[] and collect[]", () => {
  const servers = new Servers();
  afterAll(() => servers.stopAll());
  let srv: { base: string };
  let alpha: CountingCollector, beta: CountingCollector;
  const h = (): Handler => {
    alpha = new CountingCollector("alpha");
    beta = new CountingCollector("beta");
    return handlerFor(registryWith(alpha, beta));
  };

  test("name[] returns only the named families", async () => {
    srv = await servers.serve(h());
    const res = await get(`${srv.base}/metrics?name[]=alpha_value&name[]=promhttp_metric_handler_requests_in_flight`);
    expect(res.status).toBe(200);
    expect(familyNames(res.text)).toEqual(["alpha_value", "promhttp_metric_handler_requests_in_flight"]);
  });

  test("name[] naming nothing that exists: 200 and an empty exposition", async () => {
    const res = await get(`${srv.base}/metrics?name[]=no_such_metric`);
    expect(res.status).toBe(200);
    expect(res.text).toBe("");
  });

  test("collect[] runs only the selected collectors", async () => {
    const before = beta.calls;
    const res = await get(`${srv.base}/metrics?collect[]=alpha`);
    expect(res.status).toBe(200);
    expect(sampleValue(res.text, "alpha_value")).toBe(1);
    expect(sampleValue(res.text, "beta_value")).toBeUndefined();
    expect(sampleValue(res.text, `${NS}_scrape_collector_success{collector="alpha"}`)).toBe(1);
    expect(sampleValue(res.text, `${NS}_scrape_collector_success{collector="beta"}`)).toBeUndefined();
    // The handler's own metrics are not a collector one selects: always there.
    expect(res.text).toContain("promhttp_metric_handler_requests_total");
    expect(beta.calls).toBe(before);
  });

  test("collect[] with an unknown collector: 400 naming it, and nothing runs", async () => {
    const before = alpha.calls;
    const res = await get(`${srv.base}/metrics?collect[]=alpha&collect[]=gamma`);
    expect(res.status).toBe(400);
    expect(res.text).toContain('"gamma"');
    expect(alpha.calls).toBe(before);
  });
});

describe("metrics with state next to selectable collectors", () => {
  const servers = new Servers();
  afterAll(() => servers.stopAll());

  test("a counter and a vec are always gathered, with no scrape_collector series and no collect[] name of their own", async () => {
    const alpha = new CountingCollector("alpha");
    const requests = newCounter({ name: "requests_total", help: "Requests." });
    const byCode = newCounterVec({ name: "responses_total", help: "Responses." }, ["code"]);
    const reg = registryWith(alpha, requests, byCode);
    requests.inc();
    byCode.withLabelValues("200").add(2);
    expect(selectableCollectors(reg)).toEqual(["alpha"]);
    const srv = await servers.serve(handlerFor(reg));
    for (const query of ["", "?collect[]=alpha"]) {
      const res = await get(`${srv.base}/metrics${query}`);
      expect(res.status).toBe(200);
      expect(sampleValue(res.text, "requests_total")).toBe(1);
      expect(sampleValue(res.text, 'responses_total{code="200"}')).toBe(2);
      expect(sampleValue(res.text, `${NS}_scrape_collector_success{collector="alpha"}`)).toBe(1);
      expect(res.text).not.toMatch(/collector="(requests|responses)_total"/);
    }
    const res = await get(`${srv.base}/metrics?collect[]=requests_total`);
    expect(res.status).toBe(400);
  });
});

describe("the scrape deadline", () => {
  const servers = new Servers();
  afterAll(() => servers.stopAll());

  test("X-Prometheus-Scrape-Timeout-Seconds: 1 with a hanging collector: answered in under 1 s, its signal aborted", async () => {
    const hang = new FailingCollector("x", "hangs");
    const srv = await servers.serve(
      handlerFor(registryWith(new CountingCollector("ok"), hang), { errorLog: () => {} }),
    );
    const start = performance.now();
    const res = await get(`${srv.base}/metrics`, { "X-Prometheus-Scrape-Timeout-Seconds": "1" });
    expect(performance.now() - start).toBeLessThan(1000);
    expect(res.status).toBe(200);
    expect(sampleValue(res.text, "ok_value")).toBe(1);
    expect(sampleValue(res.text, `${NS}_scrape_collector_success{collector="x"}`)).toBe(0);
    expect(hang.signals).toHaveLength(1);
    expect(hang.signals[0].aborted).toBe(true);
  });

  test("a collector's own timeoutMs is honoured without any scrape deadline", async () => {
    const hang = new FailingCollector("x", "hangs", 200);
    const srv = await servers.serve(
      handlerFor(registryWith(new CountingCollector("ok"), hang), { errorLog: () => {} }),
    );
    const start = performance.now();
    const res = await get(`${srv.base}/metrics`);
    expect(performance.now() - start).toBeLessThanOrEqual(200 + 100);
    expect(res.status).toBe(200);
    expect(sampleValue(res.text, "ok_value")).toBe(1);
    expect(sampleValue(res.text, `${NS}_scrape_collector_success{collector="x"}`)).toBe(0);
    await within(100, "the collector's signal aborting", hang.aborted.promise);
  });

  test("the shorter of the header's deadline and timeoutMs applies", async () => {
    const hang = new FailingCollector("x", "hangs");
    const srv = await servers.serve(handlerFor(registryWith(hang), { timeoutMs: 200, errorLog: () => {} }));
    const start = performance.now();
    const res = await get(`${srv.base}/metrics`, { "X-Prometheus-Scrape-Timeout-Seconds": "10" });
    expect(performance.now() - start).toBeLessThanOrEqual(200 + 100);
    expect(res.status).toBe(200);
  });

  // Timers hold at most 2^31-1 ms (24.8 days); Deno fires a longer AbortSignal.timeout
  // at once, and both runtimes throw above 2^53 ms. A deadline that far off is none.
  for (const seconds of ["2147485", "1e12", "1e300"]) {
    test(`X-Prometheus-Scrape-Timeout-Seconds: ${seconds} is no deadline at all, not an immediate one or a 500`, async () => {
      const blocked = new BlockingCollector("blocked");
      const h = handlerFor(registryWith(blocked), { errorLog: () => {} });
      const srv = await servers.serve((
        req,
      ) => (new URL(req.url).pathname === "/metrics" ? h(req) : new Response("pong\n")));
      const scrape = get(`${srv.base}/metrics`, { "X-Prometheus-Scrape-Timeout-Seconds": seconds });
      await within(2000, "the scrape reaching the collector", blocked.started.promise);
      // Several round trips on the same server: a deadline that fired "at once" (after
      // 1 ms) has fired by the time they are done.
      for (let i = 0; i < 5; i++) expect((await get(`${srv.base}/ping`)).status).toBe(200);
      expect(blocked.signals[0].aborted).toBe(false);
      blocked.release();
      const res = await within(2000, "the scrape after release", scrape);
      expect(res.status).toBe(200);
      expect(sampleValue(res.text, `${NS}_scrape_collector_success{collector="blocked"}`)).toBe(1);
    });
  }

  test("a malformed X-Prometheus-Scrape-Timeout-Seconds is ignored", async () => {
    const srv = await servers.serve(handlerFor(registryWith(new CountingCollector("ok"))));
    for (const v of ["garbage", "-1", "0", "NaN", ""]) {
      const res = await get(`${srv.base}/metrics`, { "X-Prometheus-Scrape-Timeout-Seconds": v });
      expect(`${JSON.stringify(v)}: ${res.status} ${sampleValue(res.text, "ok_value")}`).toBe(
        `${JSON.stringify(v)}: 200 1`,
      );
    }
  });
});

describe("methods on the metrics path", () => {
  const servers = new Servers();
  afterAll(() => servers.stopAll());

  test("POST, PUT, DELETE, PATCH, OPTIONS: 405 with Allow: GET, HEAD, and no collector runs", async () => {
    const c = new CountingCollector("ok");
    const srv = await servers.serve(handlerFor(registryWith(c)));
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const res = await fetch(`${srv.base}/metrics`, { method });
      await res.text();
      expect(`${method}: ${res.status} ${res.headers.get("Allow")}`).toBe(`${method}: 405 GET, HEAD`);
    }
    expect(c.calls).toBe(0);
  });

  test("HEAD: 200, the GET's headers, no body", async () => {
    const srv = await servers.serve(handlerFor(registryWith(new CountingCollector("ok"))));
    const res = await rawRequest(srv.port, { method: "HEAD", path: "/metrics" });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe(TEXT);
    expect(res.body).toHaveLength(0);
  });
});

describe("debugLog (--log.level=debug)", () => {
  test("one line per collector and scrape: which ran, how long, how many series, success or failure", async () => {
    const lines: { message: string; fields: Record<string, string | number> }[] = [];
    const registry = registryWith(new CountingCollector("alpha"), new FailingCollector("broken", "throws"));
    const h = handlerFor(registry, {
      registry: null,
      errorLog: () => {},
      debugLog: (message, fields) => lines.push({ message, fields }),
    });
    const res = await h(new Request("http://x/metrics"));
    await res.text();
    expect(lines.map((l) => [l.message, l.fields.name, l.fields.series])).toEqual([
      ["collector succeeded", "alpha", 1],
      ["collector failed", "broken", 0],
    ]);
    for (const l of lines) expect(typeof l.fields.duration_seconds).toBe("number");
    // collect[] narrows the scrape, and so the lines.
    lines.length = 0;
    await (await h(new Request("http://x/metrics?collect[]=alpha"))).text();
    expect(lines.map((l) => l.fields.name)).toEqual(["alpha"]);
  });
});
