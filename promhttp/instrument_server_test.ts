// Ported in spirit from client_golang's promhttp/instrument_server_test.go:
// which label sets a wrapper accepts, how code and method
// are sanitised, and what each wrapper records for a request.
import { describe, expect, test } from "bun:test";
import { newCounterVec } from "../prometheus/counter.ts";
import { newGauge } from "../prometheus/gauge.ts";
import { newHistogramVec } from "../prometheus/histogram.ts";
import { newSummaryVec } from "../prometheus/summary.ts";
import type { HistogramMetric, Metric } from "../prometheus/value.ts";
import { collectAndCompare } from "../testutil/mod.ts";
import { sanitizeCode, sanitizeMethod } from "./_labels.ts";
import { instrumentFetchCounter } from "./instrument_client.ts";
import {
  instrumentHandlerCounter,
  instrumentHandlerDuration,
  instrumentHandlerInFlight,
  instrumentHandlerRequestSize,
  instrumentHandlerResponseSize,
  instrumentHandlerTimeToWriteHeader,
} from "./instrument_server.ts";

const ok = () => new Response("OK", { status: 200 });

function histograms(v: { collect(ch: (m: Metric) => void): void }): Map<string, HistogramMetric> {
  const out = new Map<string, HistogramMetric>();
  v.collect((m) => out.set(m.labelValues.join(","), m as HistogramMetric));
  return out;
}

describe("label check (TestLabelCheck)", () => {
  const cases: {
    name: string;
    labels: string[];
    constLabels?: Record<string, string>;
    curry?: Record<string, string>;
    ok: boolean;
  }[] = [
    { name: "no labels", labels: [], ok: true },
    { name: "code and method", labels: ["code", "method"], ok: true },
    { name: "method and code, other order", labels: ["method", "code"], ok: true },
    { name: "only code", labels: ["code"], ok: true },
    { name: "only method", labels: ["method"], ok: true },
    { name: "const labels are fine", labels: ["code"], constLabels: { foo: "bar" }, ok: true },
    { name: "an extra label", labels: ["code", "method", "foo"], ok: false },
    { name: "an extra label, curried", labels: ["code", "method", "foo"], curry: { foo: "x" }, ok: true },
    { name: "only an unsupported label", labels: ["path"], ok: false },
    { name: "code curried", labels: ["code", "method"], curry: { code: "200" }, ok: true },
  ];
  for (const tc of cases) {
    test(tc.name, () => {
      const make = () => {
        let c = newCounterVec({ name: "c_total", help: "h", constLabels: tc.constLabels }, tc.labels);
        if (tc.curry) c = c.mustCurryWith(tc.curry);
        let h = newHistogramVec({ name: "h_seconds", help: "h", constLabels: tc.constLabels }, tc.labels);
        if (tc.curry) h = h.mustCurryWith(tc.curry);
        instrumentHandlerCounter(c, ok);
        instrumentHandlerDuration(h, ok);
        instrumentFetchCounter(c, fetch);
      };
      if (tc.ok) make();
      else expect(make).toThrow("partitioned with non-supported label");
    });
  }
});

describe("sanitising (TestLabels)", () => {
  test("methods: standard ones in upper or lower case, extra ones in any, else unknown", () => {
    const cases: [string, string[] | undefined, string][] = [
      ["GET", undefined, "get"],
      ["get", undefined, "get"],
      ["Get", undefined, "unknown"], // mixed case is not Go's either
      ["PATCH", undefined, "patch"],
      ["PROPFIND", undefined, "unknown"],
      ["PROPFIND", ["propfind"], "propfind"],
      ["PropFind", ["PROPFIND"], "propfind"],
      ["__proto__", undefined, "unknown"],
    ];
    for (const [m, extra, want] of cases) expect([m, sanitizeMethod(m, extra)]).toEqual([m, want]);
  });

  test("codes: 0 is 200, 100 to 599 as they are, else unknown", () => {
    for (
      const [s, want] of [[0, "200"], [200, "200"], [418, "418"], [599, "599"], [99, "unknown"], [
        600,
        "unknown",
      ]] as const
    ) {
      expect(sanitizeCode(s)).toBe(want);
    }
  });
});

describe("server middleware (TestMiddlewareAPI)", () => {
  test("counter by code and method; methods outside the list are unknown", async () => {
    const c = newCounterVec({ name: "api_requests_total", help: "Requests." }, ["code", "method"]);
    const h = instrumentHandlerCounter(c, (req) => new Response(null, { status: req.method === "POST" ? 201 : 404 }));
    await h(new Request("http://x/a", { method: "POST" }));
    await h(new Request("http://x/a"));
    await h(new Request("http://x/a"));
    await h(new Request("http://x/a", { method: "PROPFIND" }));
    await collectAndCompare(
      c,
      `
      # HELP api_requests_total Requests.
      # TYPE api_requests_total counter
      api_requests_total{code="201",method="post"} 1
      api_requests_total{code="404",method="get"} 2
      api_requests_total{code="404",method="unknown"} 1
    `,
    );
  });

  test("a handler that throws is not counted, and the error comes through", async () => {
    const c = newCounterVec({ name: "c_total", help: "h" }, ["code"]);
    const h = instrumentHandlerCounter(c, () => {
      throw new Error("handler broke");
    });
    await expect(Promise.resolve().then(() => h(new Request("http://x/")))).rejects.toThrow("handler broke");
    await collectAndCompare(c, "");
  });

  test("in flight: up while the handler runs and the body streams, down after", async () => {
    const g = newGauge({ name: "in_flight", help: "h" });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const h = instrumentHandlerInFlight(g, async () => {
      expect(g.value).toBe(1);
      await gate;
      return new Response("body");
    });
    const pending = h(new Request("http://x/"));
    expect(g.value).toBe(1);
    release();
    const res = await pending;
    expect(g.value).toBe(1); // the body is not sent yet
    expect(await res.text()).toBe("body");
    expect(g.value).toBe(0);
    const failing = instrumentHandlerInFlight(g, () => Promise.reject(new Error("x")));
    await expect(failing(new Request("http://x/"))).rejects.toThrow("x");
    expect(g.value).toBe(0);
  });

  test("duration includes sending the body; time to write header does not", async () => {
    const d = newHistogramVec({ name: "d_seconds", help: "h", buckets: [0.015, 10] }, ["method"]);
    const t = newHistogramVec({ name: "t_seconds", help: "h", buckets: [0.015, 10] }, []);
    const slowBody = () =>
      new Response(
        new ReadableStream({
          async start(controller) {
            controller.enqueue(new TextEncoder().encode("a"));
            await new Promise((r) => setTimeout(r, 30));
            controller.enqueue(new TextEncoder().encode("b"));
            controller.close();
          },
        }),
      );
    const res = await instrumentHandlerTimeToWriteHeader(t, instrumentHandlerDuration(d, slowBody))(
      new Request("http://x/"),
    );
    expect(histograms(t).get("")!.count).toBe(1);
    expect(histograms(t).get("")!.buckets[0][1]).toBe(1); // headers at once
    expect(histograms(d).size).toBe(0); // not observed before the body is sent
    expect(await res.text()).toBe("ab");
    const m = histograms(d).get("get")!;
    expect(m.count).toBe(1);
    expect(m.sum).toBeGreaterThanOrEqual(0.025);
  });

  test("response size counts the bytes sent; request size is URL, method, headers and declared length", async () => {
    const rs = newHistogramVec({ name: "resp_bytes", help: "h", buckets: [10, 100] }, ["code"]);
    const qs = newSummaryVec({ name: "req_bytes", help: "h" }, []);
    const h = instrumentHandlerRequestSize(
      qs,
      instrumentHandlerResponseSize(rs, () => new Response("x".repeat(42), { status: 202 })),
    );
    const req = new Request("http://x/abc", {
      method: "POST",
      headers: { "content-length": "5", "x-a": "bb" },
      body: "hello",
    });
    const res = await h(req);
    await res.arrayBuffer();
    expect(histograms(rs).get("202")!.sum).toBe(42);
    // url 12 + method 4 + "content-length" 14 + "5" 1 + "x-a" 3 + "bb" 2 + content-type header the runtime adds + body 5
    let headers = 0;
    req.headers.forEach((v, k) => (headers += k.length + v.length));
    const got: Metric[] = [];
    qs.collect((m) => got.push(m));
    expect((got[0] as HistogramMetric).sum).toBe(12 + 4 + headers + 5);
  });

  test("a response without a body is done at once, size 0", async () => {
    const rs = newHistogramVec({ name: "resp_bytes", help: "h", buckets: [1] }, []);
    await instrumentHandlerResponseSize(rs, () => new Response(null, { status: 204 }))(new Request("http://x/"));
    expect(histograms(rs).get("")!.count).toBe(1);
    expect(histograms(rs).get("")!.sum).toBe(0);
  });

  test("arguments after the request reach the handler; no answer (a Bun upgrade) is passed through unrecorded", async () => {
    const c = newCounterVec({ name: "c_total", help: "h" }, ["code"]);
    const d = newHistogramVec({ name: "d_seconds", help: "h", buckets: [1] }, []);
    const g = newGauge({ name: "g", help: "h" });
    const server = { upgrade: (_req: Request) => true };
    const app = (
      req: Request,
      srv: typeof server,
    ): Response | undefined => (srv.upgrade(req) && req.headers.has("upgrade") ? undefined : ok());
    const h = instrumentHandlerInFlight(g, instrumentHandlerCounter(c, instrumentHandlerDuration(d, app)));
    expect(await h(new Request("http://x/ws", { headers: { upgrade: "websocket" } }), server)).toBeUndefined();
    expect(g.value).toBe(0);
    await collectAndCompare(c, "");
    const res = await h(new Request("http://x/"), server);
    await res!.text();
    expect(g.value).toBe(0);
    expect(histograms(d).get("")!.count).toBe(1);
  });

  test("exemplars from the request go to the counter and the observer", async () => {
    const c = newCounterVec({ name: "c_total", help: "h" }, []);
    const d = newHistogramVec({ name: "d_seconds", help: "h", buckets: [100] }, []);
    const opts = { getExemplar: (req: Request) => ({ trace_id: req.headers.get("x-trace") ?? "none" }) };
    const h = instrumentHandlerCounter(c, instrumentHandlerDuration(d, ok, opts), opts);
    const res = await h(new Request("http://x/", { headers: { "x-trace": "abc123" } }));
    await res.text();
    const got: Metric[] = [];
    c.collect((m) => got.push(m));
    d.collect((m) => got.push(m));
    expect((got[0] as { exemplar?: { labels: object } }).exemplar!.labels).toEqual({ trace_id: "abc123" });
    expect((got[1] as HistogramMetric).bucketExemplars![0]!.labels).toEqual({ trace_id: "abc123" });
  });
});
