// Basic authentication: bcrypt per runtime (Bun.password on Bun, bcryptjs on Deno),
// the cache that CVE-2022-46146 poisoned, and concurrent logins over HTTP.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rawRequest, within } from "../testing/http.ts";
import { BasicAuth, dummyHash, parseBasic, runtimeVerify } from "./auth.ts";
import { type Secured, startSecured } from "./testdata/start.ts";

/** bcrypt of "pw", cost 4. */
const pwHash = "$2b$04$OOZNMrMHoeuNItCBC9xxOuXj0cGbmS.h9bVwGnTTz0dTpsWORdcoO";
const basic = (user: string, password: string) => "Basic " + btoa(String.fromCharCode(...new TextEncoder().encode(`${user}:${password}`)));

describe("CVE-2022-46146", () => {
  test("a poisoned cache entry does not authorize another password: user+hash as name, dummy hash+password as password", async () => {
    const auth = new BasicAuth(new Map([["alice", pwHash]]), { verify: await runtimeVerify() });
    // Under a key made by concatenating user, hash and password, step 1 caches
    // "alice"+H + dummy + "fakepassword" as good (the dummy's password matches) and
    // step 2 hits that entry for the real user alice.
    expect(await auth.check(basic("alice" + pwHash, "fakepassword"))).toBe(false);
    expect(await auth.check(basic("alice", dummyHash + "fakepassword"))).toBe(false);
    expect(await auth.check(basic("alice", "pw"))).toBe(true);
    expect(await auth.check(basic("alice", "pw" + "x"))).toBe(false);
  });

  test("a cached success for one hash says nothing for another: a changed password is refused at once", async () => {
    const verify = await runtimeVerify();
    const before = new BasicAuth(new Map([["alice", pwHash]]), { verify });
    expect(await before.check(basic("alice", "pw"))).toBe(true);
    const otherHash = dummyHash; // alice's password is now "fakepassword"
    const after = new BasicAuth(new Map([["alice", otherHash]]), { verify });
    expect(await after.check(basic("alice", "pw"))).toBe(false);
    expect(await after.check(basic("alice", "fakepassword"))).toBe(true);
  });
});

describe("basic auth", () => {
  test("an unknown user costs a comparison with the dummy hash, and is refused even with its password", async () => {
    const seen: string[] = [];
    const auth = new BasicAuth(new Map([["alice", pwHash]]), {
      verify: (p, h) => {
        seen.push(h);
        return runtimeVerify().then((v) => v(p, h));
      },
    });
    expect(await auth.check(basic("mallory", "fakepassword"))).toBe(false);
    expect(seen).toEqual([dummyHash]);
  });

  test("equal requests in flight share one comparison; results are cached", async () => {
    let calls = 0;
    const verify = await runtimeVerify();
    const auth = new BasicAuth(new Map([["alice", pwHash]]), { verify: (p, h) => (calls++, verify(p, h)) });
    const got = await Promise.all(Array.from({ length: 50 }, () => auth.check(basic("alice", "pw"))));
    expect(got.every(Boolean)).toBe(true);
    expect(await auth.check(basic("alice", "pw"))).toBe(true);
    expect(calls).toBe(1);
  });

  const headerCases: [string, string | null, { user: string; password: string } | undefined][] = [
    ["no header", null, undefined],
    ["another scheme", "Bearer abc", undefined],
    ["no colon", "Basic " + btoa("alice"), undefined],
    ["not base64", "Basic !!!", undefined],
    ["not UTF-8", "Basic " + btoa("\xff:\xfe"), undefined],
    ["lower-case scheme, colon in password", "basic " + btoa("alice:a:b"), { user: "alice", password: "a:b" }],
    ["empty password", "Basic " + btoa("alice:"), { user: "alice", password: "" }],
  ];
  for (const [name, header, want] of headerCases) {
    test(`parseBasic: ${name}`, () => expect(parseBasic(header)).toEqual(want));
  }
});

describe("basic auth over HTTP", () => {
  const dir = mkdtempSync(join(tmpdir(), "exporter-auth-"));
  const file = join(dir, "web.yml");
  writeFileSync(file, `basic_auth_users:\n  alice: ${pwHash}\nhttp_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n`);
  const started: Secured[] = [];
  afterAll(async () => {
    await within(5000, "shutting down", Promise.all(started.map((s) => s.running.shutdown())));
  });
  const start = async (o: { healthWithoutAuth?: boolean } = {}) => {
    const s = await startSecured(file, o);
    started.push(s);
    return s;
  };

  test("401 with WWW-Authenticate: Basic without credentials; headers on every answer; health without auth", async () => {
    const s = await start();
    const none = await rawRequest(s.port, { path: "/metrics" });
    expect(none.status).toBe(401);
    expect(String(none.headers["www-authenticate"])).toMatch(/^Basic\b/);
    expect(none.headers["x-content-type-options"]).toBe("nosniff");
    expect(none.text).not.toContain("counting_value");
    const ok = await rawRequest(s.port, { path: "/metrics", headers: { Authorization: basic("alice", "pw") } });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain("counting_value 1");
    expect(ok.headers["x-content-type-options"]).toBe("nosniff");
    for (const path of ["/-/healthy", "/-/ready"]) expect(`${path} ${(await rawRequest(s.port, { path })).status}`).toBe(`${path} 200`);
    expect((await rawRequest(s.port, { path: "/" })).status).toBe(401);
  });

  test("--no-web.health-without-auth: health needs credentials too", async () => {
    const s = await start({ healthWithoutAuth: false });
    expect((await rawRequest(s.port, { path: "/-/healthy" })).status).toBe(401);
    expect((await rawRequest(s.port, { path: "/-/healthy", headers: { Authorization: basic("alice", "pw") } })).status).toBe(200);
  });

  test("150 good and 150 bad concurrent logins: exactly 150 × 200 and 150 × 401", async () => {
    const s = await start();
    const logins = Array.from({ length: 300 }, (_, i) =>
      i % 2 === 0 ? basic("alice", "pw") : i % 4 === 1 ? basic("alice", `wrong-${i}`) : basic(`user-${i}`, "pw"));
    const got = await Promise.all(logins.map((a) => rawRequest(s.port, { path: "/metrics", headers: { Authorization: a }, timeoutMs: 30_000 })));
    const count = (code: number) => got.filter((r) => r.status === code).length;
    expect({ ok: count(200), unauthorized: count(401), other: got.length - count(200) - count(401) }).toEqual({ ok: 150, unauthorized: 150, other: 0 });
    got.forEach((r, i) => expect(`${i}: ${r.status}`).toBe(`${i}: ${i % 2 === 0 ? 200 : 401}`));
  }, 60_000);

  test("a non-bcrypt hash is refused at start", async () => {
    const bad = join(dir, "bad.yml");
    writeFileSync(bad, "basic_auth_users:\n  alice: '{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g='\n");
    await expect(startSecured(bad)).rejects.toThrow(/exit 1: .*basic_auth_users\.alice: not a bcrypt hash/s);
  });
});
