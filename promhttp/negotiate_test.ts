// Content negotiation over real HTTP: which Content-Type, and which body, answers
// each Accept header, with OpenMetrics off (the default) and on.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { contentTypes } from "../prometheus/expfmt.ts";
import { CountingCollector, registryWith, Servers, type TestServer } from "../testing/http.ts";
import { handlerFor } from "./handler.ts";
import { acceptsGzip, negotiate } from "./negotiate.ts";

const TEXT = contentTypes["text"];
const OM1 = contentTypes["openmetrics-1.0.0"];
const OM0 = contentTypes["openmetrics-0.0.1"];

/** What Prometheus 2.x sends on every scrape. */
const PROMETHEUS_ACCEPT =
  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/** Accept header (null: none sent) → Content-Type when OpenMetrics is enabled. */
const enabledCases: { name: string; accept: string | null; want: string }[] = [
  { name: "no Accept header", accept: null, want: TEXT },
  { name: "what Prometheus sends", accept: PROMETHEUS_ACCEPT, want: OM1 },
  { name: "OpenMetrics without a version", accept: "application/openmetrics-text", want: OM1 },
  { name: "OpenMetrics 1.0.0", accept: "application/openmetrics-text; version=1.0.0", want: OM1 },
  { name: "OpenMetrics 0.0.1", accept: "application/openmetrics-text;version=0.0.1", want: OM0 },
  { name: "OpenMetrics, quoted version", accept: 'application/openmetrics-text;version="0.0.1"', want: OM0 },
  { name: "OpenMetrics in capitals", accept: "Application/OpenMetrics-Text;Version=1.0.0", want: OM1 },
  { name: "OpenMetrics of an unknown version", accept: "application/openmetrics-text;version=9.9.9", want: TEXT },
  { name: "OpenMetrics refused with q=0", accept: "application/openmetrics-text;q=0", want: TEXT },
  { name: "text/plain", accept: "text/plain", want: TEXT },
  { name: "text/plain 0.0.4", accept: "text/plain;version=0.0.4", want: TEXT },
  { name: "*/*", accept: "*/*", want: TEXT },
  { name: "text/*", accept: "text/*", want: TEXT },
  { name: "malformed", accept: "garbage;;q=x", want: TEXT },
  { name: "unknown type", accept: "application/json", want: TEXT },
  { name: "protobuf, which is not served", accept: "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", want: TEXT },
  { name: "empty", accept: "", want: TEXT },
  { name: "text preferred by q", accept: "text/plain;q=1, application/openmetrics-text;q=0.5", want: TEXT },
  { name: "OpenMetrics preferred by q", accept: "text/plain;q=0.5, application/openmetrics-text;q=0.9", want: OM1 },
  { name: "0.0.1 preferred by q", accept: "application/openmetrics-text;version=1.0.0;q=0.2, application/openmetrics-text;version=0.0.1;q=0.8", want: OM0 },
  { name: "equal q: the more specific range wins", accept: "*/*, application/openmetrics-text", want: OM1 },
  { name: "equal q and specificity: the earlier wins", accept: "text/plain, application/openmetrics-text", want: TEXT },
  { name: "malformed q counts as refusal", accept: "application/openmetrics-text;q=x, text/plain;q=0.1", want: TEXT },
  { name: "junk around a good range", accept: ",,;, application/openmetrics-text ;; q=0.9 ,", want: OM1 },
];

async function contentTypeFor(srv: TestServer, accept: string | null): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(`${srv.base}/metrics`, { headers: accept === null ? {} : { Accept: accept } });
  return { status: res.status, type: res.headers.get("Content-Type"), body: await res.text() };
}

describe("content negotiation over HTTP", () => {
  const servers = new Servers();
  let off: TestServer, on: TestServer;
  beforeAll(async () => {
    off = await servers.serve(handlerFor(registryWith(new CountingCollector("foo", "foo_total"))));
    on = await servers.serve(handlerFor(registryWith(new CountingCollector("foo", "foo_total")), { enableOpenMetrics: true }));
  });
  afterAll(() => servers.stopAll());

  test("OpenMetrics disabled (the default): text 0.0.4 whatever is asked for", async () => {
    for (const c of enabledCases) {
      const got = await contentTypeFor(off, c.accept);
      expect(`${c.name}: ${got.status} ${got.type}`).toBe(`${c.name}: 200 ${TEXT}`);
      expect(got.body).not.toContain("# EOF");
    }
  });

  test("OpenMetrics enabled: the table", async () => {
    for (const c of enabledCases) {
      const got = await contentTypeFor(on, c.accept);
      expect(`${c.name}: ${got.status} ${got.type}`).toBe(`${c.name}: 200 ${c.want}`);
    }
  });

  test("the body is in the negotiated format", async () => {
    const om = await contentTypeFor(on, "application/openmetrics-text;version=1.0.0");
    expect(om.body.endsWith("# EOF\n")).toBe(true);
    const text = await contentTypeFor(on, "text/plain");
    expect(text.body).not.toContain("# EOF");
    expect(text.body).toContain("foo_total 1\n");
  });
});

describe("negotiate and acceptsGzip agree with the HTTP table", () => {
  test("negotiate", () => {
    const byType: Record<string, string> = { [TEXT]: "text", [OM1]: "openmetrics-1.0.0", [OM0]: "openmetrics-0.0.1" };
    for (const c of enabledCases) {
      expect(`${c.name}: ${negotiate(c.accept, true)}`).toBe(`${c.name}: ${byType[c.want]}`);
      expect(`${c.name}: ${negotiate(c.accept, false)}`).toBe(`${c.name}: text`);
    }
  });

  test("acceptsGzip", () => {
    const cases: [string | null, boolean][] = [
      [null, false],
      ["", false],
      ["gzip", true],
      ["GZIP", true],
      ["x-gzip", true],
      ["gzip;q=0.001", true],
      ["gzip;q=0", false],
      ["gzip; q=0.0", false],
      ["gzip;q=x", false],
      ["*", true],
      ["*;q=0", false],
      ["gzip;q=0, *", false],
      ["br, *;q=0.1", true],
      ["identity", false],
      ["deflate, br", false],
    ];
    for (const [header, want] of cases) {
      expect(`${JSON.stringify(header)}: ${acceptsGzip(header)}`).toBe(`${JSON.stringify(header)}: ${want}`);
    }
  });
});
