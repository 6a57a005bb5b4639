// TLS from a web config, with real handshakes: certificates made here with openssl
// (web/testdata/pki.ts), clients are `openssl s_client`. What Deno.listenTls cannot
// enforce (client certificates, a minimum of TLS 1.3) is asserted as a refusal there.
import { afterAll, describe, expect, test } from "bun:test";
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { rawRequest, within } from "../testing/http.ts";
import { currentRuntime } from "./capabilities.ts";
import { issue, makePKI, sClient } from "./testdata/pki.ts";
import { type Secured, startSecured } from "./testdata/start.ts";

const pki = makePKI();
const onBun = currentRuntime() === "bun";
/** bcrypt of "pw", cost 4, and of "fakepassword", cost 10. */
const pwHash = "$2b$04$OOZNMrMHoeuNItCBC9xxOuXj0cGbmS.h9bVwGnTTz0dTpsWORdcoO";
const fakeHash = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";
const basic = (user: string, password: string) => "Basic " + btoa(`${user}:${password}`);
const clientCert = ["-cert", pki.clientCert, "-key", pki.clientKey];
const rogueCert = ["-cert", pki.rogueClientCert, "-key", pki.rogueClientKey];

let n = 0;
/** Writes a web config into the PKI folder (atomically) and returns its path. */
function webConfig(text: string, name = `web-${n++}.yml`): string {
  const file = join(pki.dir, name);
  writeFileSync(file + ".tmp", text);
  renameSync(file + ".tmp", file);
  return file;
}
const tlsConfig = (extra = "") => `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n${extra}`;

const started: Secured[] = [];
async function start(file: string): Promise<Secured> {
  const s = await startSecured(file);
  started.push(s);
  return s;
}

describe("TLS", () => {
  afterAll(async () => {
    await within(10_000, "shutting down", Promise.all(started.map((s) => s.running.shutdown())));
  });

  test("a client that trusts the CA gets 200 and the metrics over TLS 1.3 and 1.2", async () => {
    const s = await start(webConfig(tlsConfig()));
    for (const v of ["-tls1_3", "-tls1_2"]) {
      const r = await sClient(s.port, pki.caCert, "/metrics", [v]);
      expect(`${v} ${r.status}`).toBe(`${v} 200`);
      expect(r.output).toContain("counting_value 1");
    }
  }, 30_000);

  test("plain HTTP to the TLS port gets no metrics", async () => {
    const s = await start(webConfig(tlsConfig()));
    const r = await rawRequest(s.port, { path: "/metrics", timeoutMs: 5000 }).then((r) => r.text, (e) => String(e));
    expect(r).not.toContain("counting_value");
  });

  test("min_version TLS12: a TLS 1.1 client is refused", async () => {
    const s = await start(webConfig(tlsConfig("  min_version: TLS12\n")));
    const r = await sClient(s.port, pki.caCert, "/metrics", ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]);
    expect(r.status).toBe(0);
    expect(r.output).not.toContain("counting_value");
  });

  test(
    onBun
      ? "min_version TLS13: a TLS 1.2 client is refused, TLS 1.3 gets in"
      : "min_version TLS13: refused at start on Deno",
    async () => {
      const file = webConfig(tlsConfig("  min_version: TLS13\n"));
      if (!onBun) {
        await expect(startSecured(file)).rejects.toThrow(
          "tls_server_config.min_version: Deno.listenTls always accepts TLS 1.2",
        );
        return;
      }
      const s = await start(file);
      const old = await sClient(s.port, pki.caCert, "/metrics", ["-tls1_2"]);
      expect(old.status).toBe(0);
      expect(old.output).toMatch(/alert protocol version/);
      expect((await sClient(s.port, pki.caCert, "/metrics", ["-tls1_3"])).status).toBe(200);
    },
    30_000,
  );

  const mtls = tlsConfig("  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n");
  test(
    onBun
      ? "RequireAndVerifyClientCert: the CA's client gets 200; a rogue CA's client and one without a certificate are refused 20 times out of 20"
      : "RequireAndVerifyClientCert: refused at start on Deno",
    async () => {
      const file = webConfig(mtls);
      if (!onBun) {
        await expect(startSecured(file)).rejects.toThrow(
          "tls_server_config.client_auth_type: RequireAndVerifyClientCert is not available on Deno",
        );
        return;
      }
      const s = await start(file);
      expect((await sClient(s.port, pki.caCert, "/metrics", clientCert)).status).toBe(200);
      const tries = await Promise.all(
        Array.from({ length: 20 }, (_, i) => [
          sClient(s.port, pki.caCert, "/metrics", [i % 2 ? "-tls1_2" : "-tls1_3", ...rogueCert]),
          sClient(s.port, pki.caCert, "/metrics", [i % 2 ? "-tls1_2" : "-tls1_3"]),
        ]).flat(),
      );
      const letIn = tries.filter((t) => t.status !== 0 || t.output.includes("counting_value"));
      expect(`${letIn.length} of 40 let in`).toBe("0 of 40 let in");
      expect((await sClient(s.port, pki.caCert, "/metrics", clientCert)).status).toBe(200);
    },
    60_000,
  );

  test("reload: new users and a new certificate take effect without a restart", async () => {
    const name = "reload.yml";
    const users = (hash: string) => `basic_auth_users:\n  alice: ${hash}\n`;
    const file = webConfig(tlsConfig() + users(pwHash), name);
    const s = await start(file);
    const auth = (p: string) => ["/metrics", [], { Authorization: basic("alice", p) }] as const;
    expect((await sClient(s.port, pki.caCert, ...auth("pw"))).status).toBe(200);

    // The users change: the old password stops working, the new one works.
    webConfig(tlsConfig() + users(fakeHash), name);
    await waitUntil(async () => (await sClient(s.port, pki.caCert, ...auth("fakepassword"))).status === 200);
    expect((await sClient(s.port, pki.caCert, ...auth("pw"))).status).toBe(401);

    // The certificate file changes in place: new handshakes see the new one.
    issue(pki.dir, "ca", "server-next", "next.example", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    const { readFileSync } = await import("node:fs");
    writeFileSync(join(pki.dir, "server.key.tmp"), readFileSync(join(pki.dir, "server-next.key")));
    writeFileSync(join(pki.dir, "server.crt.tmp"), readFileSync(join(pki.dir, "server-next.crt")));
    renameSync(join(pki.dir, "server.key.tmp"), join(pki.dir, "server.key"));
    renameSync(join(pki.dir, "server.crt.tmp"), join(pki.dir, "server.crt"));
    await waitUntil(async () =>
      (await sClient(s.port, pki.caCert, ...auth("fakepassword"))).output.includes("CN = next.example")
    );
    expect((await sClient(s.port, pki.caCert, ...auth("fakepassword"))).status).toBe(200);
    expect(s.logs.some((l) => l.includes('msg="web config reloaded"') && l.includes("tls_changed=true"))).toBe(true);
  }, 60_000);
});

/** Polls `cond` until it holds, for at most `ms`. */
async function waitUntil(cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await cond())) {
    if (performance.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
