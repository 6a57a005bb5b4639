// What every request passes before routing and authentication (issue 12, findings 6
// and 7): an unusable Host or URL is a quiet 400, the path comes from the request
// target only, HTTP/1.0 without Host works, and every answer carries nosniff. Run on
// Bun and Deno alike, against listenAndServe with basic auth on.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { within } from "../testing/http.ts";
import { normalize } from "./guard.ts";
import { type Secured, startSecured } from "./testdata/start.ts";

const pwHash = "$2b$04$OOZNMrMHoeuNItCBC9xxOuXj0cGbmS.h9bVwGnTTz0dTpsWORdcoO";
const auth = "Basic " + btoa("alice:pw");

/** Sends `text` as it is and returns the status line and body of the answer (5 s at most). */
function exchange(port: number, text: string): Promise<{ status: string; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    let got = "";
    const c = connect(port, "127.0.0.1", () => c.write(text));
    const timer = setTimeout(() => c.destroy(), 5_000);
    c.on("data", (d: Uint8Array) => {
      got += new TextDecoder().decode(d);
      const end = got.indexOf("\r\n\r\n");
      const len = Number(got.match(/content-length: *(\d+)/i)?.[1] ?? NaN);
      if (end >= 0 && got.length - end - 4 >= len) c.destroy();
    });
    c.on("error", reject);
    c.on("close", () => {
      clearTimeout(timer);
      const [head, body = ""] = got.split("\r\n\r\n");
      resolve({ status: head.match(/^HTTP\/1\.[01] (\d{3})/)?.[1] ?? "none", head, body });
    });
  });
}

describe("normalize", () => {
  const cases: [string, string, Record<string, string>, string][] = [
    [
      "absolute URL with a valid Host",
      "http://127.0.0.1:9/-/healthy",
      { host: "127.0.0.1:9" },
      "http://127.0.0.1:9/-/healthy",
    ],
    ["Bun's bare target (no Host)", "/-/healthy", {}, "http://localhost/-/healthy"],
    ["Host with a space", "/-/healthy", { host: "a b" }, "unusable Host header"],
    [
      "Host with a path (Deno built http://x/metrics?/-/healthy)",
      "http://x/metrics?/-/healthy",
      { host: "x/metrics?" },
      "unusable Host header",
    ],
    ["IPv6 literal", "http://[::1]:8080/metrics", { host: "[::1]:8080" }, "http://[::1]:8080/metrics"],
  ];
  for (const [name, url, headers, want] of cases) {
    test(name, () => {
      const r = normalize({ url, headers: new Headers(headers), method: "GET" } as unknown as Request);
      expect(typeof r === "string" ? r : r.url).toBe(want);
    });
  }
});

describe("before auth, over HTTP", () => {
  const dir = mkdtempSync(join(tmpdir(), "exporter-guard-"));
  const file = join(dir, "web.yml");
  writeFileSync(file, `basic_auth_users:\n  alice: ${pwHash}\n`);
  let s: Secured;
  afterAll(async () => {
    await within(5000, "shutting down", s.running.shutdown());
  });

  test(
    "200 requests with Host: a b: 400 each, at most one log line, counted in ts_exporter_http_bad_requests_total",
    async () => {
      s = await startSecured(file);
      const before = s.logs.length;
      for (let i = 0; i < 200; i++) {
        const r = await exchange(s.port, `GET /metrics HTTP/1.1\r\nHost: a b\r\nAuthorization: ${auth}\r\n\r\n`);
        expect(r.status).toBe("400");
      }
      const lines = s.logs.slice(before);
      expect(lines.length).toBeLessThanOrEqual(1);
      expect(lines.join("\n")).not.toMatch(/level=error/);
      const m = await exchange(s.port, `GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${auth}\r\n\r\n`);
      expect(m.body).toMatch(/^ts_exporter_http_bad_requests_total 200$/m);
    },
    30_000,
  );

  test("Host: x/metrics? on /-/healthy never serves the metrics", async () => {
    const r = await exchange(s.port, "GET /-/healthy HTTP/1.1\r\nHost: x/metrics?\r\n\r\n");
    expect(r.status).toBe("400");
    expect(r.body).not.toContain("counting_value");
  });

  test("an absolute-form target is routed by its path, not by Host", async () => {
    const r = await exchange(s.port, "GET http://evil/-/healthy HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    expect(`${r.status} ${r.body}`).toBe("200 Healthy.\n");
  });

  test("HTTP/1.0 without Host (HAProxy's health check) gets /-/healthy", async () => {
    const r = await exchange(s.port, "GET /-/healthy HTTP/1.0\r\n\r\n");
    expect(`${r.status} ${r.body}`).toBe("200 Healthy.\n");
  });

  test("nosniff on every answer: 200, 401, 404, 400", async () => {
    const answers = await Promise.all([
      exchange(s.port, "GET /-/healthy HTTP/1.1\r\nHost: h\r\n\r\n"),
      exchange(s.port, "GET /metrics HTTP/1.1\r\nHost: h\r\n\r\n"),
      exchange(s.port, `GET /nowhere HTTP/1.1\r\nHost: h\r\nAuthorization: ${auth}\r\n\r\n`),
      exchange(s.port, "GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
    ]);
    expect(answers.map((a) => a.status)).toEqual(["200", "401", "404", "400"]);
    for (const a of answers) expect(a.head).toMatch(/^x-content-type-options: nosniff$/im);
  });
});
