// Reloads of the web config under a careless or hostile editor (issue 12, finding 5):
// a hollow file is refused like an invalid one, a valid reload that drops a protection
// is logged at warn naming it; and exporter-toolkit's rate_limit over HTTP.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rawRequest, within } from "../testing/http.ts";
import { type Secured, startSecured } from "./testdata/start.ts";

const pwHash = "$2b$04$OOZNMrMHoeuNItCBC9xxOuXj0cGbmS.h9bVwGnTTz0dTpsWORdcoO";
const auth = { Authorization: "Basic " + btoa("alice:pw") };
const users = `basic_auth_users:\n  alice: ${pwHash}\n`;

/** Polls until `fn` is true, 5 s at most (reloads poll every 100 ms here). */
async function until(what: string, fn: () => Promise<boolean>): Promise<void> {
  const end = performance.now() + 5_000;
  while (!(await fn())) {
    if (performance.now() > end) throw new Error(`not within 5 s: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const status = async (port: number, path: string, headers: Record<string, string> = {}) =>
  (await rawRequest(port, { path, headers })).status;

describe("reloads fail closed", () => {
  const dir = mkdtempSync(join(tmpdir(), "exporter-reload-"));
  const started: Secured[] = [];
  afterAll(async () => {
    await within(5000, "shutting down", Promise.all(started.map((s) => s.running.shutdown())));
  });

  for (
    const [name, text] of [["empty", ""], ["comment-only", "# being rewritten\n"], [
      "basic_auth_users: with no value",
      "basic_auth_users:\n",
    ]]
  ) {
    test(
      `a ${name} file is refused at reload: 500, ready 503, never 200 without credentials; fixed again: 200`,
      async () => {
        const file = join(dir, `${name.replace(/\W/g, "_")}.yml`);
        writeFileSync(file, users);
        const s = await startSecured(file);
        started.push(s);
        expect(await status(s.port, "/metrics")).toBe(401);
        writeFileSync(file, text);
        await until("refusing", async () => (await status(s.port, "/metrics")) === 500);
        expect(await status(s.port, "/-/ready")).toBe(503);
        expect(s.logs.join("\n")).toMatch(/level=error .*refused at reload \(replace the file atomically/);
        writeFileSync(file, users);
        await until("back", async () => (await status(s.port, "/metrics", auth)) === 200);
        expect(await status(s.port, "/metrics")).toBe(401);
      },
      20_000,
    );
  }

  test("a valid reload that removes users and a header logs at warn, naming them", async () => {
    const file = join(dir, "removal.yml");
    writeFileSync(file, `${users}http_server_config:\n  headers:\n    X-Frame-Options: deny\n`);
    const s = await startSecured(file);
    started.push(s);
    writeFileSync(file, "http_server_config:\n  http2: true\n");
    await until("reloaded", async () => (await status(s.port, "/metrics")) === 200);
    expect(s.logs.join("\n")).toMatch(
      /level=warn msg="web config reloaded without protections it had" .*removed="basic authentication \(basic_auth_users\), the header X-Frame-Options"/,
    );
  }, 20_000);
});

describe("rate_limit over HTTP", () => {
  test("burst 3, interval 1m: the 4th request gets 429 with Retry-After, before any bcrypt", async () => {
    const dir = mkdtempSync(join(tmpdir(), "exporter-rate-"));
    const file = join(dir, "web.yml");
    writeFileSync(file, `${users}rate_limit:\n  burst: 3\n  interval: 1m\n`);
    const s = await startSecured(file);
    try {
      const got = [];
      for (let i = 0; i < 4; i++) got.push(await rawRequest(s.port, { path: "/metrics", headers: auth }));
      expect(got.map((r) => r.status)).toEqual([200, 200, 200, 429]);
      expect(Number(got[3].headers["retry-after"])).toBeGreaterThanOrEqual(59);
    } finally {
      await within(5000, "shutting down", s.running.shutdown());
    }
  });
});
