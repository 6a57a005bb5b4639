// What the handler serves in each format and escaping scheme (issue 16): protobuf
// when asked (gzip too), UTF-8 names quoted or escaped as the scraper asked, and
// names that collide once escaped reported as gather errors.
import { describe, expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { newDesc } from "../prometheus/desc.ts";
import { Registry } from "../prometheus/registry.ts";
import { GaugeValue, mustNewConstMetric } from "../prometheus/value.ts";
import { type ErrorLog, handlerFor, HTTPErrorOnError } from "./handler.ts";

const otel = newDesc("http.server.active_requests", "Active requests.", ["service.name"]);
const clash = newDesc("http_server_active_requests", "Legacy twin.");

function registry(withClash = false): Registry {
  const r = new Registry();
  r.mustRegister({
    name: "otel",
    describe(ch) {
      ch(otel);
      if (withClash) ch(clash);
    },
    collect(ch) {
      ch(mustNewConstMetric(otel, GaugeValue, 3, "api"));
      if (withClash) ch(mustNewConstMetric(clash, GaugeValue, 1));
    },
  });
  return r;
}

const protoAccept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited";

async function get(
  r: Registry,
  headers: Record<string, string>,
  opts = {},
  query = "",
): Promise<{ status: number; type: string | null; body: Uint8Array; encoding: string | null }> {
  const res = await handlerFor(r, { registry: null, namespace: "t", ...opts })(
    new Request(`http://localhost/metrics${query}`, { headers }),
  );
  return {
    status: res.status,
    type: res.headers.get("Content-Type"),
    encoding: res.headers.get("Content-Encoding"),
    body: new Uint8Array(await res.arrayBuffer()),
  };
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("names beyond the legacy grammar", () => {
  test("escaped with underscores by default, and the Content-Type says so", async () => {
    const got = await get(registry(), {});
    expect(got.type).toBe("text/plain; version=0.0.4; charset=utf-8; escaping=underscores");
    expect(text(got.body)).toContain(
      '# HELP http_server_active_requests Active requests.\n# TYPE http_server_active_requests gauge\nhttp_server_active_requests{service_name="api"} 3\n',
    );
  });

  test("quoted when the scraper allows UTF-8 (Prometheus 3's text/plain;version=0.0.4;escaping=allow-utf-8)", async () => {
    const got = await get(registry(), { Accept: "text/plain;version=0.0.4;escaping=allow-utf-8" });
    expect(got.type).toBe("text/plain; version=0.0.4; charset=utf-8; escaping=allow-utf-8");
    expect(text(got.body)).toContain(
      '# HELP "http.server.active_requests" Active requests.\n# TYPE "http.server.active_requests" gauge\n{"http.server.active_requests","service.name"="api"} 3\n',
    );
  });

  test("escaping=values and escaping=dots as asked", async () => {
    expect(text((await get(registry(), { Accept: "text/plain;escaping=values" })).body)).toContain(
      'U__http_2e_server_2e_active__requests{U__service_2e_name="api"} 3\n',
    );
    expect(text((await get(registry(), { Accept: "text/plain;escaping=dots" })).body)).toContain(
      'http_dot_server_dot_active__requests{service_dot_name="api"} 3\n',
    );
  });

  test("two names escaping to one: the later family is left out and logged (ContinueOnError)", async () => {
    const logged: Record<string, string>[] = [];
    const errorLog: ErrorLog = (_m, fields) => logged.push(fields);
    const got = await get(registry(true), {}, { errorLog });
    expect(got.status).toBe(200);
    const body = text(got.body);
    expect(body).toContain('http_server_active_requests{service_name="api"} 3\n');
    expect(body).not.toContain("http_server_active_requests 1\n");
    expect(logged.map((f) => f.err)).toEqual([
      `collected metric names "http.server.active_requests" and "http_server_active_requests" both escape to "http_server_active_requests" (escaping=underscores); "http_server_active_requests" is left out`,
    ]);
    // Under allow-utf-8 they do not collide: both are served.
    const utf8 = text((await get(registry(true), { Accept: "text/plain;escaping=allow-utf-8" }, { errorLog })).body);
    expect(utf8).toContain("http_server_active_requests 1\n");
    expect(logged.length).toBe(1);
  });

  test("one handler, scrape after scrape: a collision is found whenever the scheme or the families make one", async () => {
    // The handler skips the check when the names, Descs and scheme are those of the
    // last scrape it found clean: every change below must be checked again.
    let clashing = false;
    const r = new Registry();
    r.mustRegister({
      name: "otel",
      describe(ch) {
        ch(otel);
        ch(clash);
      },
      collect(ch) {
        ch(mustNewConstMetric(otel, GaugeValue, 3, "api"));
        if (clashing) ch(mustNewConstMetric(clash, GaugeValue, 1));
      },
    });
    const logged: string[] = [];
    const h = handlerFor(r, { registry: null, namespace: "t", errorLog: (_m, f) => logged.push(f.err) });
    const utf8 = { Accept: "text/plain;version=0.0.4;escaping=allow-utf-8" };
    const steps: [boolean, Record<string, string>, boolean][] = [
      // [clashing, headers, collision expected]
      [true, utf8, false],
      [true, {}, true],
      [true, utf8, false],
      [false, {}, false],
      [false, {}, false],
      [true, {}, true],
      [true, {}, true],
    ];
    const got: boolean[] = [];
    for (const [c, headers] of steps) {
      clashing = c;
      const before = logged.length;
      await (await h(new Request("http://localhost/metrics", { headers }))).arrayBuffer();
      got.push(logged.length > before);
    }
    expect(got).toEqual(steps.map((s) => s[2]));
  });

  test("two names escaping to one under HTTPErrorOnError: 500 naming both", async () => {
    const got = await get(registry(true), {}, { errorHandling: HTTPErrorOnError, errorLog: () => {} });
    expect(got.status).toBe(500);
    expect(text(got.body)).toContain('"http.server.active_requests" and "http_server_active_requests" both escape to');
  });
});

describe("protobuf", () => {
  test("served when asked, OpenMetrics enabled or not, with its Content-Type", async () => {
    for (const enableOpenMetrics of [false, true]) {
      const got = await get(registry(), { Accept: protoAccept }, { enableOpenMetrics });
      expect(got.type).toBe(
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=underscores",
      );
      // A delimited MetricFamily: length, then field 1 (name) = the escaped name.
      const name = "http_server_active_requests";
      expect(got.body[1]).toBe(0x0a);
      expect(text(got.body.subarray(3, 3 + name.length))).toBe(name);
    }
  });

  test("gzip as for text: the same bytes, compressed", async () => {
    // Only the collector's family: the handler's own durations change from scrape to scrape.
    const only = "?name[]=http.server.active_requests";
    const plain = await get(registry(), { Accept: protoAccept }, {}, only);
    const gz = await get(registry(), { Accept: protoAccept, "Accept-Encoding": "gzip" }, {}, only);
    expect(plain.body.length).toBeGreaterThan(40);
    expect(gz.encoding).toBe("gzip");
    expect(new Uint8Array(gunzipSync(gz.body)) as Uint8Array).toEqual(plain.body);
  });
});
