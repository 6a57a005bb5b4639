// Certificates made with openssl in a temporary folder, for the TLS tests: a CA, a
// server certificate for IP 127.0.0.1, a client certificate from the CA, and a rogue
// CA with a client certificate of its own. Nothing is checked in.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Paths of the files {@linkcode makePKI} wrote. */
export interface PKI {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  readonly rogueCACert: string;
  readonly rogueClientCert: string;
  readonly rogueClientKey: string;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync("/usr/bin/openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** Makes a self-signed CA `name` in `dir`. */
function ca(dir: string, name: string): void {
  openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
    "-keyout", `${name}.key`, "-out", `${name}.crt`, "-subj", `/CN=${name}`);
}

/** Issues certificate `name` from CA `caName` with the given extensions. */
export function issue(dir: string, caName: string, name: string, cn: string, ext: string): void {
  openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`,
    "-out", `${name}.csr`, "-subj", `/CN=${cn}`);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, "x509", "-req", "-in", `${name}.csr`, "-CA", `${caName}.crt`, "-CAkey", `${caName}.key`, "-CAcreateserial",
    "-days", "1", "-out", `${name}.crt`, "-extfile", `${name}.ext`);
}

/** Writes a fresh PKI into a new temporary folder. */
export function makePKI(): PKI {
  const dir = mkdtempSync(join(tmpdir(), "exporter-pki-"));
  ca(dir, "ca");
  ca(dir, "rogue-ca");
  issue(dir, "ca", "server", "127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  issue(dir, "ca", "client", "client", "subjectAltName=DNS:client.example\nextendedKeyUsage=clientAuth\n");
  issue(dir, "rogue-ca", "rogue-client", "client", "subjectAltName=DNS:client.example\nextendedKeyUsage=clientAuth\n");
  const p = (f: string) => join(dir, f);
  return {
    dir,
    caCert: p("ca.crt"),
    serverCert: p("server.crt"),
    serverKey: p("server.key"),
    clientCert: p("client.crt"),
    clientKey: p("client.key"),
    rogueCACert: p("rogue-ca.crt"),
    rogueClientCert: p("rogue-client.crt"),
    rogueClientKey: p("rogue-client.key"),
  };
}

/** What one `openssl s_client` exchange showed. */
export interface Exchange {
  /** The HTTP status line's code, or 0 when no HTTP answer came. */
  readonly status: number;
  /** Everything s_client printed. */
  readonly output: string;
}

/**
 * Sends one HTTP/1.1 GET of `path` over TLS with `openssl s_client` and `args`
 * (e.g. `-tls1_2`, `-cert`, `-key`), verifying the server against `caCert`.
 */
export async function sClient(
  port: number,
  caCert: string,
  path: string,
  args: readonly string[] = [],
  headers: Readonly<Record<string, string>> = {},
): Promise<Exchange> {
  const { spawn } = await import("node:child_process");
  const child = spawn("/usr/bin/openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-CAfile", caCert, "-verify_return_error", "-quiet", ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d: Uint8Array) => output += new TextDecoder().decode(d));
  child.stderr!.on("data", (d: Uint8Array) => output += new TextDecoder().decode(d));
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  child.stdin!.on("error", () => {}); // the server may close before the request is written
  child.stdin!.end(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`);
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await new Promise((r) => child.on("close", r));
  clearTimeout(timer);
  const m = output.match(/^HTTP\/1\.1 (\d{3})/m);
  return { status: m ? Number(m[1]) : 0, output };
}
