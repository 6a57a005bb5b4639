// Basic authentication: bcrypt per runtime (Bun.password on Bun, bcryptjs on Deno),
// the cache that CVE-2022-46146 poisoned, and concurrent logins over HTTP.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rawRequest, within } from "../testing/http.ts";
import { BasicAuth, bcryptCost, dummyAtCost, dummyHash, parseBasic, runtimeVerify } from "./auth.ts";
import { type Secured, startSecured } from "./testdata/start.ts";

/** bcrypt of "pw", cost 4. */
const pwHash = "$2b$04$OOZNMrMHoeuNItCBC9xxOuXj0cGbmS.h9bVwGnTTz0dTpsWORdcoO";
const basic = (user: string, password: string) =>
  "Basic " + btoa(String.fromCharCode(...new TextEncoder().encode(`${user}:${password}`)));

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
    expect(seen).toEqual([dummyAtCost(4)]);
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

describe("no enumeration, no lockout (issue 12)", () => {
  /** A verify stand-in that records the cost of every comparison and waits for the test to release it. */
  function gatedVerify() {
    const costs: number[] = [];
    const gates: (() => void)[] = [];
    const verify = (_p: string, h: string) => {
      costs.push(bcryptCost(h));
      return new Promise<boolean>((r) => gates.push(() => r(false)));
    };
    return { costs, gates, verify, releaseAll: () => gates.splice(0).forEach((g) => g()) };
  }

  test("an unknown user's answer waits for its dummy comparison (Bun answered at once)", async () => {
    const g = gatedVerify();
    const auth = new BasicAuth(new Map([["alice", pwHash]]), { verify: g.verify });
    let answered = false;
    const p = auth.check(basic("mallory", "x")).then((v) => (answered = true, v));
    while (g.gates.length === 0) await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(false);
    g.releaseAll();
    expect(await p).toBe(false);
  });

  test("every failed login costs 2^max bcrypt work, whichever user it names", async () => {
    const costs: number[] = [];
    const verify = (_p: string, h: string) => (costs.push(bcryptCost(h)), Promise.resolve(false));
    const users = new Map([["cheap", pwHash], ["dear", pwHash.replace("$04$", "$07$")]]);
    const auth = new BasicAuth(users, { verify });
    const work = async (user: string) => {
      costs.length = 0;
      expect(await auth.check(basic(user, "wrong"))).toBe(false);
      return costs.reduce((a, c) => a + 2 ** c, 0);
    };
    expect({ unknown: await work("nobody"), cheap: await work("cheap"), dear: await work("dear") })
      .toEqual({ unknown: 2 ** 7, cheap: 2 ** 7, dear: 2 ** 7 });
  });

  test("median time of a wrong password and of an unknown user agree (n = 100 each, real bcrypt)", async () => {
    const auth = new BasicAuth(new Map([["alice", pwHash.replace("$04$", "$05$")], ["bob", pwHash]]), {
      verify: await runtimeVerify(),
    });
    const median = async (user: string) => {
      const t: number[] = [];
      for (let i = 0; i < 100; i++) {
        const t0 = performance.now();
        await auth.check(basic(user, `wrong-${i}`));
        t.push(performance.now() - t0);
      }
      return t.sort((a, b) => a - b)[50];
    };
    const known = await median("alice"), other = await median("bob"), unknown = await median("nobody");
    // Generous bounds for a loaded machine: the old code answered an unknown user
    // ~30× faster than a known one, and a cost-4 user 2× faster than a cost-5 one.
    expect(unknown / known).toBeGreaterThan(0.6);
    expect(other / known).toBeGreaterThan(0.6);
  }, 30_000);

  test("failed logins are not cached: 300 of them do not evict a cached success", async () => {
    let calls = 0;
    const verify = await runtimeVerify();
    const auth = new BasicAuth(new Map([["alice", pwHash]]), {
      verify: (p, h) => (calls++, verify(p, h)),
      cacheSize: 100,
    });
    expect(await auth.check(basic("alice", "pw"))).toBe(true);
    for (let i = 0; i < 300; i++) expect(await auth.check(basic(i % 2 ? "alice" : `u${i}`, `wrong-${i}`))).toBe(false);
    calls = 0;
    expect(await auth.check(basic("alice", "pw"))).toBe(true);
    expect(calls).toBe(0);
  });

  test("a bounded queue: beyond 2 running and 3 waiting, busy at once; the rest still get their answer", async () => {
    const g = gatedVerify();
    const auth = new BasicAuth(new Map([["alice", pwHash]]), { verify: g.verify, concurrency: 2, maxWaiting: 3 });
    const first = Array.from({ length: 5 }, (_, i) => auth.verdict(basic("alice", `w${i}`)));
    while (g.gates.length < 2) await new Promise((r) => setTimeout(r, 1));
    expect(await auth.verdict(basic("alice", "one-too-many"))).toBe("busy");
    let settled = false;
    const all = Promise.all(first).finally(() => settled = true);
    while (!settled) {
      g.releaseAll();
      await new Promise((r) => setTimeout(r, 1));
    }
    await all;
    expect(await Promise.all(first)).toEqual(Array(5).fill("unauthorized"));
  });
});

describe("basic auth over HTTP", () => {
  const dir = mkdtempSync(join(tmpdir(), "exporter-auth-"));
  const file = join(dir, "web.yml");
  writeFileSync(
    file,
    `basic_auth_users:\n  alice: ${pwHash}\nhttp_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n`,
  );
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
    for (const path of ["/-/healthy", "/-/ready"]) {
      expect(`${path} ${(await rawRequest(s.port, { path })).status}`).toBe(`${path} 200`);
    }
    expect((await rawRequest(s.port, { path: "/" })).status).toBe(401);
  });

  test("--no-web.health-without-auth: health needs credentials too", async () => {
    const s = await start({ healthWithoutAuth: false });
    expect((await rawRequest(s.port, { path: "/-/healthy" })).status).toBe(401);
    expect((await rawRequest(s.port, { path: "/-/healthy", headers: { Authorization: basic("alice", "pw") } })).status)
      .toBe(200);
  });

  test("150 good and 150 bad concurrent logins: good ones 200 or 429, bad ones 401 or 429, never crossed", async () => {
    const s = await start();
    const logins = Array.from(
      { length: 300 },
      (_, i) =>
        i % 2 === 0 ? basic("alice", "pw") : i % 4 === 1 ? basic("alice", `wrong-${i}`) : basic(`user-${i}`, "pw"),
    );
    const got = await Promise.all(
      logins.map((a) => rawRequest(s.port, { path: "/metrics", headers: { Authorization: a }, timeoutMs: 30_000 })),
    );
    // The bcrypt queue is bounded (2 running, 16 waiting): what does not fit is told
    // 429 with Retry-After at once; nothing is ever answered for another's credentials.
    got.forEach((r, i) => expect(`${i}: ${r.status}`).toMatch(i % 2 === 0 ? /: (200|429)$/ : /: (401|429)$/));
    for (const r of got.filter((r) => r.status === 429)) expect(r.headers["retry-after"]).toBe("1");
    expect(got.filter((r) => r.status === 200).length).toBeGreaterThan(0);
    expect(got.filter((r) => r.status === 401).length).toBeGreaterThan(0);
    // Once the flood is over the good credentials are answered from the cache.
    expect((await rawRequest(s.port, { path: "/metrics", headers: { Authorization: basic("alice", "pw") } })).status)
      .toBe(200);
  }, 60_000);

  test("a non-bcrypt hash is refused at start", async () => {
    const bad = join(dir, "bad.yml");
    writeFileSync(bad, "basic_auth_users:\n  alice: '{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g='\n");
    await expect(startSecured(bad)).rejects.toThrow(/exit 1: .*basic_auth_users\.alice: not a bcrypt hash/s);
  });
});
