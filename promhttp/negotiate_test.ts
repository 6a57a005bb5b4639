// Content negotiation over real HTTP: which Content-Type, and which body, answers
// each Accept header, with OpenMetrics off (the default) and on.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { contentType, contentTypes } from "../prometheus/expfmt.ts";
import { CountingCollector, registryWith, Servers, type TestServer } from "../testing/http.ts";
import { handlerFor } from "./handler.ts";
import { acceptsGzip, negotiate } from "./negotiate.ts";

const TEXT = contentTypes["text"];
const OM1 = contentTypes["openmetrics-1.0.0"];
const OM0 = contentTypes["openmetrics-0.0.1"];
const PROTO = contentTypes["protobuf"];
const u = "; escaping=underscores";

/** What Prometheus 2.x sends on every scrape. */
const PROMETHEUS_2_ACCEPT =
  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/** Prometheus 2.42 with --enable-feature=native-histograms: protobuf first (read from Debian's binary). */
const PROMETHEUS_2_NATIVE_ACCEPT =
  "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/** Prometheus 3's default (scrape.go's acceptHeader over DefaultScrapeProtocols, escaping allow-utf-8). */
const PROMETHEUS_3_ACCEPT =
  "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
/** Prometheus 3 with native histograms (DefaultProtoFirstScrapeProtocols): no escaping= on protobuf. */
const PROMETHEUS_3_NATIVE_ACCEPT =
  "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1";

const protoAccept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily";

/**
 * Accept header (null: none sent) → Content-Type with OpenMetrics enabled (`on`) and
 * disabled (`off`), as client_golang 1.24 answers (prometheus/common v0.70's
 * Negotiate and NegotiateIncludingOpenMetrics). The cases marked "encode_test.go" are
 * prometheus/common's expfmt/encode_test.go TestNegotiate and
 * TestNegotiateIncludingOpenMetrics (v0.70.1), with the default scheme underscores.
 */
const cases: { name: string; accept: string | null; on: string; off?: string }[] = [
  { name: "no Accept header", accept: null, on: TEXT + u },
  { name: "Prometheus 2", accept: PROMETHEUS_2_ACCEPT, on: OM1 + u, off: TEXT + u },
  { name: "Prometheus 2 with native histograms", accept: PROMETHEUS_2_NATIVE_ACCEPT, on: PROTO + u, off: PROTO + u },
  // allow-utf-8 sticks from the first range (OM 1.0.0) to the text 0.0.4 that matches.
  {
    name: "Prometheus 3",
    accept: PROMETHEUS_3_ACCEPT,
    on: OM1 + "; escaping=allow-utf-8",
    off: TEXT + "; escaping=allow-utf-8",
  },
  { name: "Prometheus 3 with native histograms", accept: PROMETHEUS_3_NATIVE_ACCEPT, on: PROTO + u, off: PROTO + u },
  {
    name: "encode_test.go: delimited format",
    accept: protoAccept + ";encoding=delimited",
    on: PROTO + u,
    off: PROTO + u,
  },
  { name: "encode_test.go: plain text format", accept: "text/plain;version=0.0.4", on: TEXT + u },
  {
    name: "encode_test.go: delimited format utf-8",
    accept: protoAccept + ";encoding=delimited; escaping=allow-utf-8;",
    on: PROTO + "; escaping=allow-utf-8",
    off: PROTO + "; escaping=allow-utf-8",
  },
  {
    name: "encode_test.go: plain text 0.0.4 with escaping=values",
    accept: "text/plain;version=0.0.4; escaping=values;",
    on: TEXT + "; escaping=values",
  },
  { name: "encode_test.go: OM format, no version", accept: "application/openmetrics-text", on: OM0 + u, off: TEXT + u },
  {
    name: "encode_test.go: OM format, 0.0.1 version",
    accept: "application/openmetrics-text;version=0.0.1; escaping=underscores",
    on: OM0 + u,
    off: TEXT + u,
  },
  {
    name: "encode_test.go: OM format, 1.0.0 version",
    accept: "application/openmetrics-text;version=1.0.0",
    on: OM1 + u,
    off: TEXT + u,
  },
  {
    name: "encode_test.go: OM format, 1.0.0 with escaping=values",
    accept: "application/openmetrics-text;version=1.0.0; escaping=values;",
    on: OM1 + "; escaping=values",
    off: TEXT + "; escaping=values",
  },
  {
    name: "encode_test.go: OM format, invalid version",
    accept: "application/openmetrics-text;version=0.0.4",
    on: TEXT + u,
  },
  {
    name: "encode_test.go: plain text 0.0.4 allow-utf-8",
    accept: "text/plain;version=0.0.4; escaping=allow-utf-8",
    on: TEXT + "; escaping=allow-utf-8",
  },
  { name: "an unknown escaping scheme is ignored", accept: "text/plain;escaping=klingon", on: TEXT + u },
  { name: "escaping=dots", accept: "text/plain;escaping=dots", on: TEXT + "; escaping=dots" },
  {
    name: "protobuf in its text encoding, which the kit does not serve",
    accept: protoAccept + ";encoding=text",
    on: TEXT + u,
  },
  { name: "protobuf without proto=", accept: "application/vnd.google.protobuf;encoding=delimited", on: TEXT + u },
  {
    name: "OpenMetrics, quoted version",
    accept: 'application/openmetrics-text;version="0.0.1"',
    on: OM0 + u,
    off: TEXT + u,
  },
  { name: "OpenMetrics in capitals", accept: "Application/OpenMetrics-Text;Version=1.0.0", on: OM1 + u, off: TEXT + u },
  { name: "OpenMetrics of an unknown version", accept: "application/openmetrics-text;version=9.9.9", on: TEXT + u },
  { name: "OpenMetrics refused with q=0", accept: "application/openmetrics-text;q=0", on: TEXT + u },
  { name: "text/plain", accept: "text/plain", on: TEXT + u },
  { name: "text/plain 1.0.0 alone: not served, text 0.0.4", accept: "text/plain;version=1.0.0", on: TEXT + u },
  { name: "*/*", accept: "*/*", on: TEXT + u },
  { name: "text/*", accept: "text/*", on: TEXT + u },
  { name: "malformed", accept: "garbage;;q=x", on: TEXT + u },
  { name: "unknown type", accept: "application/json", on: TEXT + u },
  { name: "empty", accept: "", on: TEXT + u },
  { name: "text preferred by q", accept: "text/plain;q=1, application/openmetrics-text;q=0.5", on: TEXT + u },
  {
    name: "OpenMetrics preferred by q",
    accept: "text/plain;q=0.5, application/openmetrics-text;version=1.0.0;q=0.9",
    on: OM1 + u,
    off: TEXT + u,
  },
  {
    name: "0.0.1 preferred by q",
    accept: "application/openmetrics-text;version=1.0.0;q=0.2, application/openmetrics-text;version=0.0.1;q=0.8",
    on: OM0 + u,
    off: TEXT + u,
  },
  {
    name: "equal q: the more specific range wins",
    accept: "*/*, application/openmetrics-text",
    on: OM0 + u,
    off: TEXT + u,
  },
  {
    name: "equal q and specificity: the earlier wins",
    accept: "text/plain, application/openmetrics-text",
    on: TEXT + u,
  },
  { name: "malformed q counts as refusal", accept: "application/openmetrics-text;q=x, text/plain;q=0.1", on: TEXT + u },
  {
    name: "junk around a good range",
    accept: ",,;, application/openmetrics-text;version=1.0.0 ;; q=0.9 ,",
    on: OM1 + u,
    off: TEXT + u,
  },
];

async function contentTypeFor(
  srv: TestServer,
  accept: string | null,
): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(`${srv.base}/metrics`, { headers: accept === null ? {} : { Accept: accept } });
  return { status: res.status, type: res.headers.get("Content-Type"), body: await res.text() };
}

describe("content negotiation over HTTP", () => {
  const servers = new Servers();
  let off: TestServer, on: TestServer;
  beforeAll(async () => {
    off = await servers.serve(handlerFor(registryWith(new CountingCollector("foo", "foo_total"))));
    on = await servers.serve(
      handlerFor(registryWith(new CountingCollector("foo", "foo_total")), { enableOpenMetrics: true }),
    );
  });
  afterAll(() => servers.stopAll());

  test("OpenMetrics disabled (the default): never OpenMetrics; protobuf and escaping as asked", async () => {
    for (const c of cases) {
      const got = await contentTypeFor(off, c.accept);
      expect(`${c.name}: ${got.status} ${got.type}`).toBe(`${c.name}: 200 ${c.off ?? c.on}`);
      expect(got.body).not.toContain("# EOF");
    }
  });

  test("OpenMetrics enabled: the table", async () => {
    for (const c of cases) {
      const got = await contentTypeFor(on, c.accept);
      expect(`${c.name}: ${got.status} ${got.type}`).toBe(`${c.name}: 200 ${c.on}`);
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
    for (const c of cases) {
      for (const [enabled, want] of [[true, c.on], [false, c.off ?? c.on]] as const) {
        const got = negotiate(c.accept, enabled);
        expect(`${c.name}: ${contentType(got.format, got.escaping)}`).toBe(`${c.name}: ${want}`);
      }
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
