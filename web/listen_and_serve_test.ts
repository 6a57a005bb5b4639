// listenAndServe in-process, on a loopback port the system picks: routing, health
// endpoints, the landing page, build_info, and 10,000 random requests.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { defaultNamespace as NS } from "../promhttp/collector_metrics.ts";
import { handlerFor, type HandlerOpts } from "../promhttp/handler.ts";
import type { Collector } from "../prometheus/collector.ts";
import type { Registry } from "../prometheus/registry.ts";
import { runtimeInfo } from "../prometheus/runtime_collector.ts";
import {
  CountingCollector,
  FailingCollector,
  prng,
  rawRequest,
  registryWith,
  seriesIdentities,
  seriesLines,
  within,
} from "../testing/http.ts";
import { freePort } from "../testing/process.ts";
import type { Flags } from "./exporter_flags.ts";
import { newLogger } from "./log.ts";
import { listenAndServe, type Running } from "./listen_and_serve.ts";
import { type Adapter, adapter } from "./adapter.ts";
import { landingPage } from "./landing.ts";
import { type Identity, newIdentity, program } from "./version.ts";

/** A running exporter on 127.0.0.1 and the log lines it wrote. */
interface Exporter {
  readonly base: string;
  readonly port: number;
  readonly registry: Registry;
  readonly logs: string[];
  readonly running: Running;
}

/**
 * Runs listenAndServe for `collectors` on 127.0.0.1, port 0, as main.ts would after
 * parseFlags, except that it leaves the test process' signals alone.
 */
async function startExporter(
  collectors: Collector[],
  opts: {
    telemetryPath?: string;
    handlerOpts?: HandlerOpts;
    listenAddresses?: string[];
    identity?: Identity;
    adapter?: Adapter;
  } = {},
): Promise<Exporter> {
  const logs: string[] = [];
  const registry = registryWith(...collectors);
  const handlerOpts = opts.handlerOpts ?? {};
  const flags: Flags = {
    listenAddresses: opts.listenAddresses ?? ["127.0.0.1:0"],
    telemetryPath: opts.telemetryPath ?? "/metrics",
    handlerOpts,
    logger: newLogger("debug", "logfmt", (l) => logs.push(l)),
    registry,
    adapter: { ...(opts.adapter ?? await adapter()), onShutdownSignal: () => {} },
    ...(opts.identity ? { identity: opts.identity } : {}),
  };
  const running = await listenAndServe(flags, handlerFor(registry, handlerOpts));
  const port = running.listeners[0].port;
  return { base: `http://127.0.0.1:${port}`, port, registry, logs, running };
}

async function get(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe("routing", () => {
  const exporters: Exporter[] = [];
  afterAll(async () => {
    await within(5000, "shutting down", Promise.all(exporters.map((e) => e.running.shutdown())));
  });
  let ex: Exporter;
  let counting: CountingCollector;
  beforeAll(async () => {
    counting = new CountingCollector("counting");
    ex = await startExporter([counting], { telemetryPath: "/prom" });
    exporters.push(ex);
  });

  test("/-/healthy and /-/ready answer 200 without running collectors", async () => {
    for (const path of ["/-/healthy", "/-/ready"]) {
      const res = await get(ex.base + path);
      expect(`${path}: ${res.status}`).toBe(`${path}: 200`);
    }
    expect(counting.calls).toBe(0);
  });

  test("POST, PUT, DELETE on the metrics path: 405 with Allow, no collector runs", async () => {
    for (const method of ["POST", "PUT", "DELETE"]) {
      const res = await get(`${ex.base}/prom`, { method });
      expect(`${method}: ${res.status} ${res.headers.get("Allow")}`).toBe(`${method}: 405 GET, HEAD`);
    }
    expect(counting.calls).toBe(0);
  });

  test("other paths: 404, no collector runs", async () => {
    for (const path of ["/metrics", "/prom/", "/prom/x", "/PROM", "/-/", "/-/reload", "/favicon.ico", "/index.html"]) {
      const res = await get(ex.base + path);
      expect(`${path}: ${res.status}`).toBe(`${path}: 404`);
    }
    expect(counting.calls).toBe(0);
  });

  test("the telemetry path serves the metrics", async () => {
    const res = await get(`${ex.base}/prom`);
    expect(res.status).toBe(200);
    expect(res.text).toContain("counting_value 1\n");
    expect(counting.calls).toBe(1);
  });

  test(`${NS}_build_info{version,revision,runtime,runtime_version} 1`, async () => {
    const { runtime, version } = runtimeInfo();
    const res = await get(`${ex.base}/prom`);
    const want =
      `${NS}_build_info{revision="${program.revision}",runtime="${runtime}",runtime_version="${version}",version="${program.version}"} 1`;
    expect(seriesLines(res.text)).toContain(want);
  });
});

describe("the landing page", () => {
  const exporters: Exporter[] = [];
  afterAll(async () => {
    await within(5000, "shutting down", Promise.all(exporters.map((e) => e.running.shutdown())));
  });
  const evil = "<script>alert(1)</script>";

  test("is HTML, links to the metrics path and shows each collector's last status", async () => {
    const counting = new CountingCollector("counting", "counting_value");
    const ex = await startExporter([counting, new FailingCollector("broken", "throws")], {
      telemetryPath: "/custom-metrics",
      handlerOpts: { errorLog: () => {} },
    });
    exporters.push(ex);

    const before = await get(`${ex.base}/`);
    expect(before.status).toBe(200);
    expect(before.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(before.text).toContain('<a href="/custom-metrics">');
    expect(before.text).toContain("<title>exporter</title>");
    expect(before.text).toMatch(/<td>counting<\/td><td>not scraped yet<\/td>/);
    expect(before.text).toMatch(/<td>broken<\/td><td>not scraped yet<\/td>/);
    // Rendering the page runs no collector.
    expect(counting.calls).toBe(0);

    expect((await get(`${ex.base}/custom-metrics`)).status).toBe(200);

    const after = await get(`${ex.base}/`);
    expect(after.text).toMatch(/<td>counting<\/td><td>ok<\/td>/);
    expect(after.text).toMatch(/<td>broken<\/td><td>failed<\/td>/);
  });

  test("escapes what it shows (registration already refuses such collector names)", async () => {
    const page = await landingPage({ name: evil, version: evil, metricsPath: `/m"${evil}`, registry: registryWith() })
      .text();
    expect(page).not.toContain(evil);
    expect(page).toContain("<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>");
    expect(page).toContain('href="/m&quot;&lt;script&gt;');
  });
});

describe("10,000 random requests", () => {
  const exporters: Exporter[] = [];
  afterAll(async () => {
    await within(5000, "shutting down", Promise.all(exporters.map((e) => e.running.shutdown())));
  });

  const methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];
  const paths = [
    "/metrics",
    "/metrics",
    "/metrics",
    "/",
    "/-/healthy",
    "/-/ready",
    "/metrics/",
    "//metrics",
    "/metrics/../",
    "/metrics/..%2f",
    "/%2e%2e/metrics",
    "/METRICS",
    "/favicon.ico",
    "/metrics%00",
    "/-/",
    "/-/reload",
    "/%ZZ",
    "/metrics;x",
    "/metrics#frag",
    "/./metrics",
  ];
  const queries = [
    "",
    "",
    "?",
    "?name[]=x",
    "?name[]=alpha_value",
    "?collect[]=alpha",
    "?collect[]=beta&collect[]=alpha",
    "?collect[]=%ZZ&&&=",
    "?name[]=x&collect[]=%ZZ&&&=",
    "?collect[]=",
    "?name[]=",
    "?collect%5B%5D=gamma",
    "?name[]=alpha_value&name[]=alpha_value",
    "?=&=&",
    "?%",
    "?a=%E0%A4%A",
    "?collect[]=%3Cscript%3E",
  ];
  const accepts = [
    undefined,
    "*/*",
    "text/plain",
    "application/openmetrics-text;version=1.0.0",
    "garbage;;q=x",
    "application/openmetrics-text;version=0.0.1;q=0.5,text/plain;q=0.9",
    ";;;,,,",
    "application/json",
  ];
  const encodings = [undefined, "gzip", "gzip;q=0", "*", "br", "gzip;q=x", ",,,"];
  const timeouts = [undefined, "10", "0.5", "garbage", "-1", "1e9", "0.001"];
  const junkChars = "abcXYZ019-._~%[]=&;+!$'()*,/:@";

  test("no 5xx, the server stays up, and no series appear or vanish", async () => {
    const ex = await startExporter([new CountingCollector("alpha"), new CountingCollector("beta")], {
      // A 1 ms scrape deadline may fail a collector: logged, and no concern here.
      handlerOpts: { maxRequestsInFlight: 40, errorLog: () => {} },
    });
    exporters.push(ex);
    // One request that counts a 400 first, so that the code="400" series of
    // promhttp_metric_handler_requests_total exists before and after.
    expect((await get(`${ex.base}/metrics?collect[]=gamma`)).status).toBe(400);
    const scrape = async () => {
      const res = await get(`${ex.base}/metrics`);
      expect(res.status).toBe(200);
      return seriesIdentities(res.text);
    };
    const before = await scrape();

    const rand = prng(20240601);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const junk = (n: number) => Array.from({ length: n }, () => pick([...junkChars])).join("");
    const next = (): { method: string; path: string; headers: Record<string, string>; body?: string } => {
      const method = pick(methods);
      const r = rand();
      const path = r < 0.7
        ? pick(paths) + pick(queries)
        : r < 0.85
        ? "/" + junk(1 + Math.floor(rand() * 40)) + (rand() < 0.5 ? "?" + junk(Math.floor(rand() * 40)) : "")
        : r < 0.95
        ? "/metrics?" + junk(Math.floor(rand() * 200))
        : "/" + "a".repeat(1000 + Math.floor(rand() * 7000)) + pick(queries);
      const headers: Record<string, string> = {};
      const accept = pick(accepts), encoding = pick(encodings), timeout = pick(timeouts);
      if (accept !== undefined) headers["Accept"] = accept;
      if (encoding !== undefined) headers["Accept-Encoding"] = encoding;
      if (timeout !== undefined) headers["X-Prometheus-Scrape-Timeout-Seconds"] = timeout;
      const body = (method === "POST" || method === "PUT" || method === "PATCH") && rand() < 0.5
        ? junk(100)
        : undefined;
      return { method, path, headers, body };
    };

    const total = 10_000, concurrency = 20, deadline = performance.now() + 50_000;
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let issued = 0;
    const worker = async () => {
      while (issued < total && performance.now() < deadline) {
        issued++;
        const req = next();
        try {
          const res = await rawRequest(ex.port, { ...req, timeoutMs: 5000 });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status >= 500) {
            failures.push(`${req.method} ${req.path.slice(0, 100)}: ${res.status} ${res.text.slice(0, 200)}`);
          }
        } catch (e) {
          failures.push(`${req.method} ${req.path.slice(0, 100)}: ${e instanceof Error ? e.message : e}`);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const answered = [...statuses.values()].reduce((a, b) => a + b, 0);

    expect(failures.slice(0, 10)).toEqual([]);
    expect(answered).toBe(total);
    expect([...statuses.keys()].filter((s) => ![200, 400, 404, 405, 414, 431].includes(s))).toEqual([]);
    // The mix reaches every branch: scrapes, bad collect[], unknown paths, bad methods.
    for (const s of [200, 400, 404, 405]) expect(`${s}: ${(statuses.get(s) ?? 0) > 50}`).toBe(`${s}: true`);
    expect((await get(`${ex.base}/-/healthy`)).status).toBe(200);

    const after = await scrape();
    const withoutRequests = (ids: string[]) =>
      ids.filter((s) => !s.startsWith("promhttp_metric_handler_requests_total"));
    expect(after.length).toBe(before.length);
    expect(withoutRequests(after)).toEqual(withoutRequests(before));
    expect(ex.logs.filter((l) => l.includes("level=error"))).toEqual([]);
  }, 60_000);
});

describe("identity", () => {
  test("names the landing page, <namespace>_build_info and the start-up line, which lists version, runtime and collectors", async () => {
    const identity = newIdentity({ name: "upstream_exporter", version: "2.3.4", revision: "abc123" });
    const ex = await startExporter([new CountingCollector("alpha"), new CountingCollector("beta")], {
      identity,
      handlerOpts: { namespace: identity.namespace },
    });
    try {
      const { runtime, version } = runtimeInfo();
      expect((await get(`${ex.base}/`)).text).toContain("<title>upstream_exporter</title>");
      const body = (await get(`${ex.base}/metrics`)).text;
      expect(seriesLines(body)).toContain(
        `upstream_exporter_build_info{revision="abc123",runtime="${runtime}",runtime_version="${version}",version="2.3.4"} 1`,
      );
      expect(seriesLines(body)).toContain('upstream_exporter_scrape_collector_success{collector="alpha"} 1');
      expect(body).not.toContain(`${NS}_`);
      const start = ex.logs.find((l) => l.includes('msg="Starting upstream_exporter"'));
      expect(start).toBeDefined();
      expect(start).toContain(
        ` version=2.3.4 revision=abc123 runtime=${runtime} runtime_version=${version} collectors=alpha,beta`,
      );
      expect(ex.logs.indexOf(start!)).toBeLessThan(ex.logs.findIndex((l) => l.includes('msg="Listening on"')));
    } finally {
      await ex.running.shutdown();
    }
  });
});

describe("addresses like Go's (issue 15 part 5)", () => {
  test(":PORT listens on every IPv4 and IPv6 address: 127.0.0.1 and ::1 answer; logged as [::]:PORT", async () => {
    const port = freePort();
    const ex = await startExporter([new CountingCollector("alpha")], { listenAddresses: [`:${port}`] });
    try {
      for (const host of ["127.0.0.1", "[::1]"]) {
        const res = await get(`http://${host}:${port}/-/healthy`);
        expect(`${host}: ${res.status}`).toBe(`${host}: 200`);
      }
      expect(ex.logs.some((l) => l.includes(`msg="Listening on" address=[::]:${port} `))).toBe(true);
    } finally {
      await ex.running.shutdown();
    }
  });

  test("an IPv6 address is logged in brackets: [::1]:PORT", async () => {
    const ex = await startExporter([], { listenAddresses: ["[::1]:0"] });
    try {
      const port = ex.running.listeners[0].port;
      expect(ex.logs.some((l) => l.includes(`msg="Listening on" address=[::1]:${port} `))).toBe(true);
      expect((await get(`http://[::1]:${port}/-/healthy`)).status).toBe(200);
    } finally {
      await ex.running.shutdown();
    }
  });

  test("where binding :: fails (no IPv6), :PORT falls back to 0.0.0.0; a port in use does not fall back", async () => {
    const real = await adapter();
    const tried: string[] = [];
    const noIPv6: Adapter = {
      ...real,
      listen: (o) => {
        tried.push(o.hostname);
        if (o.hostname === "::") {
          return Promise.reject(
            Object.assign(new Error("Address family not supported by protocol"), { code: "EAFNOSUPPORT" }),
          );
        }
        return real.listen(o);
      },
    };
    const port = freePort();
    const ex = await startExporter([], { listenAddresses: [`:${port}`], adapter: noIPv6 });
    try {
      expect(tried).toEqual(["::", "0.0.0.0"]);
      expect((await get(`http://127.0.0.1:${port}/-/healthy`)).status).toBe(200);
      expect(ex.logs.some((l) => l.includes(`msg="Listening on" address=0.0.0.0:${port} `))).toBe(true);
    } finally {
      await ex.running.shutdown();
    }

    tried.length = 0;
    let exited: number | undefined;
    const inUse: Adapter = {
      ...real,
      listen: (o) => {
        tried.push(o.hostname);
        return Promise.reject(
          Object.assign(new Error("Failed to start server. Is port in use?"), { code: "EADDRINUSE" }),
        );
      },
      exit: (code: number): never => {
        exited = code;
        throw new Error(`exit ${code}`);
      },
    };
    await expect(startExporter([], { listenAddresses: [`:${port}`], adapter: inUse })).rejects.toThrow("exit 1");
    expect(exited).toBe(1);
    expect(tried).toEqual(["::"]);
  });
});
