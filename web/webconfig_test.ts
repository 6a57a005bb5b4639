// Strict parsing of exporter-toolkit's web-config.yml: every file in
// web/testdata/webconfig/*.bad.yml is refused with its own message, which names the
// file and the key (each file's first line, `# want: …`, is what the message must
// contain); and what each runtime refuses to serve.
import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runToExit } from "../testing/process.ts";
import { type Runtime, unenforceable } from "./capabilities.ts";
import { currentRuntime } from "./capabilities.ts";
import { expiryWarning, loadWebConfig, parseWebConfig, WebConfigError } from "./webconfig.ts";

const DIR = fileURLToPath(new URL("./testdata/webconfig/", import.meta.url));
const badFiles = readdirSync(DIR).filter((f) => f.endsWith(".bad.yml")).sort();
const hash = "$2b$04$OOZNMrMHoeuNItCBC9xxOuXj0cGbmS.h9bVwGnTTz0dTpsWORdcoO";

async function refusal(file: string): Promise<string> {
  try {
    await loadWebConfig(file, currentRuntime());
  } catch (e) {
    expect(e).toBeInstanceOf(WebConfigError);
    return (e as Error).message;
  }
  return "accepted";
}

describe("bad web configs", () => {
  test("there are at least 15", () => {
    expect(badFiles.length).toBeGreaterThanOrEqual(15);
  });

  const messages = new Map<string, string>();
  for (const name of badFiles) {
    test(`${name} is refused, naming the file and the key`, async () => {
      const file = join(DIR, name);
      const want = readFileSync(file, "utf8").split("\n")[0].replace(/^# want: /, "");
      const got = await refusal(file);
      expect(got).toContain(`web config ${JSON.stringify(file)}: `);
      expect(got).toContain(want);
      messages.set(name, got.slice(got.indexOf(": ") + 2));
    });
  }

  test("each with its own message", () => {
    const seen = new Map<string, string>();
    for (const [name, msg] of messages) {
      expect(`${name}: ${seen.get(msg) ?? "unique"}`).toBe(`${name}: unique`);
      seen.set(msg, name);
    }
  });

  test("a file that cannot be read is refused naming it", async () => {
    const file = join(DIR, "no-such-file.yml");
    expect(await refusal(file)).toMatch(/^web config ".*no-such-file\.yml": cannot read ".*no-such-file\.yml"/);
  });
});

describe("good web configs", () => {
  test("an empty file: plain HTTP, no users, no headers", async () => {
    const c = await parseWebConfig("", "/etc/web.yml");
    expect([c.tls, c.users.size, c.headers, c.http2]).toEqual([undefined, 0, {}, true]);
  });

  test("every key of exporter-toolkit's format, paths taken from the file's folder", async () => {
    const c = await parseWebConfig(
      `tls_server_config:
  cert_file: server.crt
  key_file: /abs/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  min_version: TLS12
  max_version: TLS13
  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]
  curve_preferences: [X25519, CurveP256]
  prefer_server_cipher_suites: true
http_server_config:
  http2: true
  headers:
    X-Frame-Options: deny
    X-Content-Type-Options: nosniff
    Strict-Transport-Security: max-age=31536000
basic_auth_users:
  alice: ${hash}
  "bob:colon": ${hash}
`,
      "/etc/exporter/web.yml",
    );
    expect(c.tls?.certFile).toBe("/etc/exporter/server.crt");
    expect(c.tls?.keyFile).toBe("/abs/server.key");
    expect(c.tls?.clientCAFile).toBe("/etc/exporter/ca.crt");
    expect([c.tls?.minVersion, c.tls?.maxVersion, c.tls?.clientAuthType]).toEqual([
      "TLS12",
      "TLS13",
      "RequireAndVerifyClientCert",
    ]);
    expect([...c.users.keys()]).toEqual(["alice", "bob:colon"]);
    expect(c.headers["X-Frame-Options"]).toBe("deny");
  });
});

describe("what each runtime refuses", () => {
  const tls = (extra: string) =>
    parseWebConfig(`tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n${extra}`, "/w.yml");
  // [setting, keys refused on Bun, on Deno, on Node]
  const A = "tls_server_config.client_auth_type", S = "tls_server_config.client_allowed_sans";
  const cases: [string, string, string[], string[], string[]][] = [
    ["plain TLS", "", [], [], []],
    ["min_version TLS13", "  min_version: TLS13\n", [], ["tls_server_config.min_version"], []],
    ["max_version TLS12", "  max_version: TLS12\n", [], ["tls_server_config.max_version"], []],
    ["min_version TLS10", "  min_version: TLS10\n", [], [], []],
    ["cipher_suites", "  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n", [], [
      "tls_server_config.cipher_suites",
    ], []],
    ["curve_preferences", "  curve_preferences: [X25519]\n", [], ["tls_server_config.curve_preferences"], []],
    ["RequestClientCert", "  client_auth_type: RequestClientCert\n", [], [A], []],
    ["RequireAnyClientCert", "  client_auth_type: RequireAnyClientCert\n", [A], [A], [A]],
    ["VerifyClientCertIfGiven", "  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.crt\n", [A], [A], [
      A,
    ]],
    ["RequireAndVerifyClientCert", "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n", [], [
      A,
    ], []],
    [
      "client_allowed_sans",
      "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  client_allowed_sans: [a.example]\n",
      [S],
      [S, A],
      [S],
    ],
  ];
  for (const [name, extra, bun, deno, node] of cases) {
    for (const [runtime, want] of [["bun", bun], ["deno", deno], ["node", node]] as [Runtime, string[]][]) {
      test(`${name} on ${runtime}: ${want.length ? "refused" : "served"}`, async () => {
        const got = unenforceable(await tls(extra), runtime);
        expect(got.map((r) => r.key)).toEqual(want);
        for (const r of got) expect(r.why.length).toBeGreaterThan(30);
      });
    }
  }
  test("http2: false is served on both (both offer HTTP/1.1 only)", async () => {
    const withHttp1 = await parseWebConfig(
      "tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\nhttp_server_config:\n  http2: false\n",
      "/w.yml",
    );
    expect(unenforceable(withHttp1, "bun")).toEqual([]);
    expect(unenforceable(withHttp1, "deno")).toEqual([]);
  });
  test("rate_limit: served on either runtime; burst 0 with an interval is refused; interval 0 means no limit", async () => {
    const c = await parseWebConfig("rate_limit:\n  burst: 5\n  interval: 1s\n", "/w.yml");
    expect(c.rateLimit).toEqual({ burst: 5, intervalMs: 1000 });
    for (const r of ["bun", "deno"] as const) expect(unenforceable(c, r)).toEqual([]);
    await expect(parseWebConfig("rate_limit:\n  interval: 1s\n", "/w.yml")).rejects.toThrow(
      /rate_limit\.burst: 0 with an interval above 0 would refuse every request/,
    );
    expect((await parseWebConfig("rate_limit:\n  burst: 0\n  interval: 0s\n", "/w.yml")).rateLimit).toBeUndefined();
  });
});

describe("hostile and careless files", () => {
  test("a bcrypt cost above 16 is refused at load, naming the user", async () => {
    const h31 = hash.replace("$04$", "$31$"), h17 = hash.replace("$04$", "$17$");
    await expect(parseWebConfig(`basic_auth_users:\n  mallory: ${h31}\n`, "/w.yml")).rejects.toThrow(
      /basic_auth_users\.mallory: bcrypt cost 31 is outside 4…16 \(user "mallory"/,
    );
    await expect(parseWebConfig(`basic_auth_users:\n  bob: ${h17}\n`, "/w.yml")).rejects.toThrow(
      /bcrypt cost 17 is outside/,
    );
    expect((await parseWebConfig(`basic_auth_users:\n  ok: ${hash.replace("$04$", "$16$")}\n`, "/w.yml")).users.size)
      .toBe(1);
  });

  const hollowCases: [string, string, string | undefined][] = [
    ["empty", "", "the file is empty or holds only comments"],
    ["comments only", "# nothing here\n# yet\n", "the file is empty or holds only comments"],
    ["basic_auth_users: with no value", "basic_auth_users:\n", "basic_auth_users is present but has no value"],
    ["a real config", `basic_auth_users:\n  alice: ${hash}\n`, undefined],
  ];
  for (const [name, text, want] of hollowCases) {
    test(`hollow: ${name}`, async () => expect((await parseWebConfig(text, "/w.yml")).hollow).toBe(want));
  }

  test("a file over 1 MiB is refused without being parsed, naming its size", async () => {
    const dir = mkdtempSync(join(tmpdir(), "exporter-big-"));
    const file = join(dir, "web.yml");
    writeFileSync(file, `# ${"x".repeat(1024 * 1024)}\nbasic_auth_users:\n  alice: ${hash}\n`);
    await expect(loadWebConfig(file, currentRuntime())).rejects.toThrow(
      /cannot read .*: 10\d{5} bytes, more than the 1048576 \(1 MiB\)/,
    );
  });

  test("expiry: expired and soon-expiring certificates are warned about, others not", () => {
    const now = Date.parse("2026-12-03T00:00:00Z");
    expect(expiryWarning("k", "Jan  2 00:00:00 2020 GMT", now)).toMatch(
      /^k: the certificate expired on 2020-01-02T00:00:00.000Z/,
    );
    expect(expiryWarning("k", "Dec 13 00:00:00 2026 GMT", now)).toMatch(/^k: the certificate expires in 10 days/);
    expect(expiryWarning("k", "Dec 13 00:00:00 2027 GMT", now)).toBeUndefined();
  });

  test("a certificate expiring tomorrow and a key readable by others are warned about at load", async () => {
    const dir = mkdtempSync(join(tmpdir(), "exporter-warn-"));
    execFileSync("/usr/bin/openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      "k.pem",
      "-out",
      "c.pem",
      "-subj",
      "/CN=soon",
      "-days",
      "1",
    ], { cwd: dir, stdio: "ignore" });
    chmodSync(join(dir, "k.pem"), 0o644);
    writeFileSync(join(dir, "web.yml"), "tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n");
    const l = await loadWebConfig(join(dir, "web.yml"), currentRuntime());
    expect(l.warnings.join("\n")).toMatch(/tls_server_config\.cert_file: the certificate expires in 0 days/);
    expect(l.warnings.join("\n")).toMatch(
      /tls_server_config\.key_file: ".*k\.pem" is readable by others \(mode 0644\); chmod 600 it/,
    );
    chmodSync(join(dir, "k.pem"), 0o600);
    expect((await loadWebConfig(join(dir, "web.yml"), currentRuntime())).warnings.filter((w) => w.includes("readable")))
      .toEqual([]);
  });
});

describe("--web.config.check", () => {
  test("a bad file: exit 1 with the reason; a good one: exit 0 with ok", async () => {
    const bad = await runToExit("main.ts", [`--web.config.check=${join(DIR, "not_bcrypt.bad.yml")}`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("basic_auth_users.alice: not a bcrypt hash");
    const good = await runToExit("main.ts", ["--web.config.check", join(DIR, "users.yml")]);
    expect(`${good.code} ${good.stdout}`).toBe("0 ok\n");
  }, 30_000);
});
