// exporter-toolkit's web-config.yml, parsed strictly: an unknown key, a value of the
// wrong type or out of range, or a file that cannot be read is an error naming the
// file and the key. Imported only when --web.config.file (or --web.config.check) is
// given, so that the YAML library costs nothing otherwise.
import type { X509Certificate } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
// The YAML library is loaded only when a web config is read: a static import would be
// evaluated on every start (~12–30 ms on Bun) even without --web.config.file.
type Yaml = typeof import("yaml");
let yaml: Promise<Yaml> | undefined;
const loadYaml = () => yaml ??= import("yaml");
import {
  type At,
  boolean,
  dictionary,
  duration,
  each,
  key,
  oneOf,
  optionalString,
  type Path,
  path,
  string,
  strings,
  struct,
  wholeNumber,
} from "./_schema.ts";
import { headerProblem } from "./headers.ts";
import type { TLSOptions } from "./adapter.ts";
import {
  cipherSuites,
  clientAuthTypes,
  curves,
  tls13Suites,
  type TLSSettings,
  tlsVersions,
  toTLSOptions,
} from "./tls.ts";
import { type Runtime, unenforceable } from "./capabilities.ts";

/** A web config, validated. */
export interface WebConfig {
  /** The file it was read from. */
  readonly file: string;
  /** Undefined: plain HTTP, as when no TLS key is set in exporter-toolkit. */
  readonly tls?: TLSSettings;
  /** `http_server_config.http2`; true unless set. */
  readonly http2: boolean;
  /** `http_server_config.headers`, each allowed by web/headers.ts. */
  readonly headers: Readonly<Record<string, string>>;
  /** `basic_auth_users`: name → bcrypt hash. Empty: no authentication. */
  readonly users: ReadonlyMap<string, string>;
  /** `rate_limit`, when set with an interval above 0 (0 means no limit, as in exporter-toolkit). */
  readonly rateLimit?: { readonly burst: number; readonly intervalMs: number };
  /**
   * Why the file says nothing where it seems meant to, when it does: empty or only
   * comments, or a top-level key with no value (`basic_auth_users:`). Served at start
   * as exporter-toolkit does; refused at reload, where it is what a non-atomic rewrite
   * looks like halfway.
   */
  readonly hollow?: string;
}

/** A web config with what it points to read: what the server runs with. */
export interface LoadedWebConfig {
  readonly config: WebConfig;
  /** The adapter's TLS options; undefined for plain HTTP. */
  readonly tls?: TLSOptions;
  /** Every file read (the config, certificates, keys, CAs) and its content, to notice changes. */
  readonly sources: ReadonlyMap<string, string>;
  /** What an operator should hear about but that does not stop the exporter (expiring certificates, readable keys). */
  readonly warnings: readonly string[];
}

/**
 * The largest web config, certificate or key file read, in bytes. A bigger one is
 * refused without being read, so that a mistaken or hostile file cannot make every
 * reload poll read megabytes.
 */
export const maxWebConfigFileBytes = 1024 * 1024;

/**
 * The highest bcrypt cost accepted. Each step doubles the work: cost 10 takes ~85 ms
 * here, so 16 takes ~5 s and 17 ~11 s, more than Prometheus' default 10 s scrape
 * timeout for the first login; at 31 (bcrypt's maximum) one login would take years.
 */
export const maxBcryptCost = 16;

/** Certificates expiring sooner than this are warned about at start and reload. */
export const certificateWarningDays = 30;

/** A web config that cannot be used; the message names the file and the key. */
export class WebConfigError extends Error {
  constructor(readonly file: string, readonly key: string, why: string, line?: number) {
    super(`web config ${JSON.stringify(file)}: ${key ? key + ": " : ""}${why}${line ? ` (line ${line})` : ""}`);
    this.name = "WebConfigError";
  }
}

/** bcrypt's modular crypt format, as Go's `bcrypt.Cost` accepts it. */
const bcryptHash = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

function checkBcrypt(h: string, at: At): void {
  const m = h.match(bcryptHash);
  if (!m) {
    at.fail("not a bcrypt hash (want $2a$, $2b$ or $2y$, a two-digit cost and 53 characters, as htpasswd -B makes)");
  }
  const cost = Number(m[1]);
  if (cost < 4 || cost > maxBcryptCost) {
    const name = at.path.at(-1)!;
    at.fail(
      `bcrypt cost ${cost} is outside 4…${maxBcryptCost} (user ${
        JSON.stringify(name)
      }: one login at cost ${cost} takes ~${(0.085 * 2 ** (cost - 10)).toPrecision(2)} s on a 2-core machine)`,
    );
  }
}

const clientCertRequired = ["RequireAnyClientCert", "RequireClientCert", "RequireAndVerifyClientCert"];

/** `tls_server_config`, in the order of exporter-toolkit's TLSConfig. */
const tlsServerConfig = struct({
  cert: key(string),
  key: key(string),
  client_ca: key(string),
  cert_file: key(path),
  key_file: key(path),
  client_auth_type: key(optionalString, { default: "NoClientCert", check: oneOf(clientAuthTypes) }),
  client_ca_file: key(path),
  cipher_suites: key(strings, {
    default: [],
    check: each((s, at) => {
      if (tls13Suites.includes(s)) at.fail(`${s} is a TLS 1.3 suite, and TLS 1.3's suites are not configurable`);
      oneOf(Object.keys(cipherSuites))(s, at);
    }),
  }),
  curve_preferences: key(strings, { default: [], check: each(oneOf(Object.keys(curves))) }),
  min_version: key(string, { default: "TLS12", check: oneOf(Object.keys(tlsVersions)) }),
  max_version: key(string, { default: "TLS13", check: oneOf(Object.keys(tlsVersions)) }),
  prefer_server_cipher_suites: key(boolean, { default: true }), // accepted; Go ignores it too
  client_allowed_sans: key(strings),
}, (t, at, written): TLSSettings | undefined => {
  const given = (x: unknown) => x !== undefined && x !== null && x !== "";
  const enabled = [t.cert_file, t.key_file, t.client_ca_file, t.cert, t.key, t.client_ca, written.client_auth_type]
    .some(given);
  const keys = Object.keys(written);
  if (!enabled) {
    if (keys.length) at.at(keys[0]).fail("set without cert_file and key_file, so TLS would be off");
    return undefined;
  }
  if (t.cert !== undefined && t.cert_file !== undefined) at.at("cert").fail("set together with cert_file; use one");
  if (t.key !== undefined && t.key_file !== undefined) at.at("key").fail("set together with key_file; use one");
  if (t.client_ca !== undefined && t.client_ca_file !== undefined) {
    at.at("client_ca").fail("set together with client_ca_file; use one");
  }
  if (t.cert === undefined && t.cert_file === undefined) {
    at.at("cert_file").fail("missing: TLS is configured but there is no cert_file (or cert)");
  }
  if (t.key === undefined && t.key_file === undefined) {
    at.at("key_file").fail("missing: TLS is configured but there is no key_file (or key)");
  }
  if (tlsVersions[t.min_version] > tlsVersions[t.max_version]) {
    at.at("min_version").fail(`${t.min_version} is above max_version ${t.max_version}`);
  }
  const hasCA = t.client_ca !== undefined || t.client_ca_file !== undefined;
  if (hasCA && t.client_auth_type === "NoClientCert") {
    at.at(t.client_ca_file !== undefined ? "client_ca_file" : "client_ca").fail(
      "set, but client_auth_type is NoClientCert, so no client certificate is asked for",
    );
  }
  if (
    !hasCA && (t.client_auth_type === "RequireAndVerifyClientCert" || t.client_auth_type === "VerifyClientCertIfGiven")
  ) {
    at.at("client_ca_file").fail(
      `missing: client_auth_type ${t.client_auth_type} verifies client certificates against it`,
    );
  }
  if (t.client_allowed_sans !== undefined && !clientCertRequired.includes(t.client_auth_type)) {
    at.at("client_allowed_sans").fail("requires client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert");
  }
  return {
    certFile: t.cert_file,
    keyFile: t.key_file,
    clientCAFile: t.client_ca_file,
    cert: t.cert,
    key: t.key,
    clientCA: t.client_ca,
    clientAuthType: t.client_auth_type,
    minVersion: t.min_version,
    maxVersion: t.max_version,
    cipherSuites: t.cipher_suites,
    curvePreferences: t.curve_preferences,
    clientAllowedSans: t.client_allowed_sans,
  };
});

/** `http_server_config`. */
const httpServerConfig = struct({
  http2: key(boolean, { default: true }),
  headers: key(dictionary(
    key(string, {
      check: (v, at) => {
        const problem = headerProblem(at.path.at(-1)!, v);
        if (problem) at.fail(problem);
      },
    }),
    "want a string, got null",
  )),
}, (h) => ({ http2: h.http2, headers: Object.fromEntries(h.headers!) }));

/** `rate_limit`: an interval of 0 (the default) means no limit, as in exporter-toolkit. */
const rateLimit = struct({
  burst: key(wholeNumber, { default: 0 }),
  interval: key(duration, { default: 0 }),
}, (r, at): WebConfig["rateLimit"] => {
  if (r.interval <= 0) return undefined;
  if (r.burst === 0) at.at("burst").fail("0 with an interval above 0 would refuse every request; want at least 1");
  return { burst: r.burst, intervalMs: r.interval };
});

/** The whole file, in the order of exporter-toolkit's Config. */
const webConfigSchema = {
  tls_server_config: key(tlsServerConfig),
  http_server_config: key(httpServerConfig),
  basic_auth_users: key(dictionary(key(string, { check: checkBcrypt }), "want a bcrypt hash, got null")),
  rate_limit: key(rateLimit),
};

/**
 * Parses the text of a web config. Throws {@linkcode WebConfigError} for YAML errors,
 * unknown or duplicate keys, values of the wrong type, unknown names (TLS versions,
 * cipher suites, curves, client-auth types, headers) and combinations
 * exporter-toolkit refuses. Relative paths are taken from the file's folder. Keys are
 * read in the order of exporter-toolkit's structs, so that of several mistakes the
 * first in that order is reported.
 *
 * @example
 * ```ts
 * const c = await parseWebConfig("basic_auth_users:\n  alice: $2y$10$...\n", "/etc/exporter/web.yml");
 * ```
 */
export async function parseWebConfig(text: string, file: string): Promise<WebConfig> {
  const { isMap, LineCounter, parseDocument } = await loadYaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, version: "1.2" });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0].line;
    throw new WebConfigError(file, "", `invalid YAML: ${first.message.split("\n")[0]}`, line);
  }
  const dir = dirname(resolve(file));
  const at = (path: Path): At => ({
    path,
    dir,
    fail(why) {
      const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
      throw new WebConfigError(
        file,
        path.join("."),
        why,
        node?.range ? lineCounter.linePos(node.range[0]).line : undefined,
      );
    },
    at: (k) => at([...path, k]),
  });
  if (doc.contents !== null && !isMap(doc.contents)) at([]).fail("want a mapping at the top level");
  const top = (doc.toJS({ maxAliasCount: 100 }) ?? {}) as Record<string, unknown>;
  const c = struct(webConfigSchema, (v) => v).read(top, at([]))!;
  const emptyKey = Object.keys(top).find((k) => top[k] === null);
  const hollow = Object.keys(top).length === 0
    ? "the file is empty or holds only comments"
    : emptyKey !== undefined
    ? `${emptyKey} is present but has no value`
    : undefined;
  const { http2, headers } = c.http_server_config!;
  const users = c.basic_auth_users!, rateLimit = c.rate_limit, tls = c.tls_server_config;
  // Without TLS the key is left out, as it always was, rather than set to undefined.
  return tls
    ? { file, tls, http2, headers, users, rateLimit, hollow }
    : { file, http2, headers, users, rateLimit, hollow };
}

/**
 * The warning for a certificate valid until `validTo` (X509Certificate's text), seen at
 * `now`: expired, or expiring within {@linkcode certificateWarningDays}; undefined otherwise.
 */
export function expiryWarning(key: string, validTo: string, now: number): string | undefined {
  const end = Date.parse(validTo);
  const daysLeft = (end - now) / 86_400_000;
  if (daysLeft < 0) {
    return `${key}: the certificate expired on ${
      new Date(end).toISOString()
    }; clients that verify it will refuse to connect`;
  }
  if (daysLeft < certificateWarningDays) {
    return `${key}: the certificate expires in ${Math.floor(daysLeft)} days, on ${new Date(end).toISOString()}`;
  }
  return undefined;
}

/**
 * Reads and parses `file`, refuses what `runtime` cannot enforce (see
 * web/capabilities.ts), and reads and checks the certificates and keys it names.
 * Throws {@linkcode WebConfigError}.
 */
export async function loadWebConfig(file: string, runtime: Runtime): Promise<LoadedWebConfig> {
  const sources = new Map<string, string>();
  const warnings: string[] = [];
  const read = async (p: string, key: string): Promise<string> => {
    try {
      const { size } = await stat(p);
      if (size > maxWebConfigFileBytes) {
        throw new Error(
          `${size} bytes, more than the ${maxWebConfigFileBytes} (1 MiB) read from a web config or the files it names`,
        );
      }
      const text = await readFile(p, "utf8");
      sources.set(p, text);
      return text;
    } catch (e) {
      throw new WebConfigError(file, key, `cannot read ${JSON.stringify(p)}: ${e instanceof Error ? e.message : e}`);
    }
  };
  const config = await parseWebConfig(await read(file, ""), file);
  const refused = unenforceable(config, runtime);
  if (refused.length) throw new WebConfigError(file, refused[0].key, refused[0].why);
  if (!config.tls) return { config, sources, warnings };

  const s = config.tls;
  const k = (name: string) => `tls_server_config.${name}`;
  const cert = s.certFile !== undefined ? await read(s.certFile, k("cert_file")) : s.cert!;
  const key = s.keyFile !== undefined ? await read(s.keyFile, k("key_file")) : s.key!;
  const clientCA = s.clientCAFile !== undefined ? await read(s.clientCAFile, k("client_ca_file")) : s.clientCA;
  const certKey = s.certFile !== undefined ? k("cert_file") : k("cert");
  const keyKey = s.keyFile !== undefined ? k("key_file") : k("key");
  // Imported here, not at the top: node:crypto costs ~15 ms of Bun's start-up.
  const { createPrivateKey, X509Certificate } = await import("node:crypto");
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (e) {
    throw new WebConfigError(file, certKey, `not a PEM certificate: ${e instanceof Error ? e.message : e}`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (e) {
    throw new WebConfigError(file, keyKey, `not a PEM private key: ${e instanceof Error ? e.message : e}`);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new WebConfigError(file, keyKey, `does not belong to the certificate (${x509.subject})`);
  }
  const expiry = expiryWarning(certKey, x509.validTo, Date.now());
  if (expiry) warnings.push(expiry);
  if (s.keyFile !== undefined) {
    const mode = (await stat(s.keyFile)).mode & 0o777;
    if (mode & 0o077) {
      warnings.push(
        `${keyKey}: ${JSON.stringify(s.keyFile)} is readable by ${mode & 0o007 ? "others" : "its group"} (mode ${
          mode.toString(8).padStart(4, "0")
        }); chmod 600 it`,
      );
    }
  }
  if (clientCA !== undefined) {
    try {
      new X509Certificate(clientCA);
    } catch (e) {
      const caKey = s.clientCAFile !== undefined ? k("client_ca_file") : k("client_ca");
      throw new WebConfigError(file, caKey, `not a PEM certificate: ${e instanceof Error ? e.message : e}`);
    }
  }
  return { config, tls: toTLSOptions(s, { cert, key, clientCA }), sources, warnings };
}
