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
import { parseDuration } from "./flags.ts";
import { headerProblem } from "./headers.ts";
import type { TLSOptions } from "./adapter.ts";
import { cipherSuites, clientAuthTypes, curves, type TLSSettings, tls13Suites, tlsVersions, toTLSOptions } from "./tls.ts";
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

const schema: Record<string, readonly string[]> = {
  "": ["tls_server_config", "http_server_config", "basic_auth_users", "rate_limit"],
  tls_server_config: [
    "cert",
    "key",
    "client_ca",
    "cert_file",
    "key_file",
    "client_auth_type",
    "client_ca_file",
    "cipher_suites",
    "curve_preferences",
    "min_version",
    "max_version",
    "prefer_server_cipher_suites",
    "client_allowed_sans",
  ],
  http_server_config: ["http2", "headers"],
  rate_limit: ["burst", "interval"],
};

/** bcrypt's modular crypt format, as Go's `bcrypt.Cost` accepts it. */
const bcryptHash = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

/**
 * Parses the text of a web config. Throws {@linkcode WebConfigError} for YAML errors,
 * unknown or duplicate keys, values of the wrong type, unknown names (TLS versions,
 * cipher suites, curves, client-auth types, headers) and combinations
 * exporter-toolkit refuses. Relative paths are taken from the file's folder.
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
  const lineOf = (path: string[]): number | undefined => {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    return node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
  };
  const fail = (path: string[], why: string): never => {
    throw new WebConfigError(file, path.join("."), why, lineOf(path));
  };
  if (doc.contents !== null && !isMap(doc.contents)) fail([], "want a mapping at the top level");
  const root = (doc.toJS({ maxAliasCount: 100 }) ?? {}) as Record<string, unknown>;

  const mapping = (v: unknown, path: string[]): Record<string, unknown> => {
    if (v === null || v === undefined) return {};
    if (typeof v !== "object" || Array.isArray(v)) return fail(path, `want a mapping, got ${describe(v)}`);
    const allowed = schema[path.join(".")];
    if (allowed) {
      for (const k of Object.keys(v)) {
        if (!allowed.includes(k)) fail([...path, k], `unknown key; allowed here: ${allowed.join(", ")}`);
      }
    }
    return v as Record<string, unknown>;
  };
  const str = (v: unknown, path: string[]): string | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") return fail(path, `want a string, got ${describe(v)}`);
    return v;
  };
  const bool = (v: unknown, path: string[], dflt: boolean): boolean => {
    if (v === undefined || v === null) return dflt;
    if (typeof v !== "boolean") return fail(path, `want true or false, got ${describe(v)}`);
    return v;
  };
  const strings = (v: unknown, path: string[]): string[] | undefined => {
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) return fail(path, `want a list of strings, got ${describe(v)}`);
    return v.map((x, i) => str(x, [...path, String(i)]) ?? fail([...path, String(i)], "want a string, got null"));
  };
  const oneOf = (v: string | undefined, path: string[], names: readonly string[], dflt: string): string => {
    if (v === undefined) return dflt;
    if (!names.includes(v)) fail(path, `unknown value ${JSON.stringify(v)}; want one of ${names.join(", ")}`);
    return v;
  };

  const top = mapping(root, []);
  const emptyKey = Object.keys(top).find((k) => top[k] === null);
  const hollow = Object.keys(top).length === 0
    ? "the file is empty or holds only comments"
    : emptyKey !== undefined
    ? `${emptyKey} is present but has no value`
    : undefined;
  const users = new Map<string, string>();
  const u = mapping(top.basic_auth_users, ["basic_auth_users"]);
  for (const [name, hash] of Object.entries(u)) {
    const path = ["basic_auth_users", name];
    const h = str(hash, path) ?? fail(path, "want a bcrypt hash, got null");
    const m = h.match(bcryptHash);
    if (!m) fail(path, "not a bcrypt hash (want $2a$, $2b$ or $2y$, a two-digit cost and 53 characters, as htpasswd -B makes)");
    const cost = Number(m![1]);
    if (cost < 4 || cost > maxBcryptCost) {
      fail(path, `bcrypt cost ${cost} is outside 4…${maxBcryptCost} (user ${JSON.stringify(name)}: one login at cost ${cost} takes ~${(0.085 * 2 ** (cost - 10)).toPrecision(2)} s on a 2-core machine)`);
    }
    users.set(name, h);
  }

  const http = mapping(top.http_server_config, ["http_server_config"]);
  const http2 = bool(http.http2, ["http_server_config", "http2"], true);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(mapping(http.headers, ["http_server_config", "headers"]))) {
    const path = ["http_server_config", "headers", name];
    const v = str(value, path) ?? fail(path, "want a string, got null");
    const problem = headerProblem(name, v);
    if (problem) fail(path, problem);
    headers[name] = v;
  }

  let rateLimit: WebConfig["rateLimit"];
  if (top.rate_limit !== undefined && top.rate_limit !== null) {
    const r = mapping(top.rate_limit, ["rate_limit"]);
    const burst = r.burst ?? 0;
    if (typeof burst !== "number" || !Number.isInteger(burst) || burst < 0) fail(["rate_limit", "burst"], `want a whole number ≥ 0, got ${describe(burst)}`);
    const iv = str(r.interval, ["rate_limit", "interval"]) ?? "0s";
    const intervalMs = parseDuration(iv);
    if (intervalMs === undefined) fail(["rate_limit", "interval"], `invalid duration ${JSON.stringify(iv)}; want e.g. 1s or 500ms`);
    if (intervalMs! > 0) {
      if (burst === 0) fail(["rate_limit", "burst"], "0 with an interval above 0 would refuse every request; want at least 1");
      rateLimit = { burst: burst as number, intervalMs: intervalMs! };
    }
  }

  const t = mapping(top.tls_server_config, ["tls_server_config"]);
  const tp = (k: string) => ["tls_server_config", k];
  const dir = dirname(resolve(file));
  const path = (k: string) => {
    const p = str(t[k], tp(k));
    if (p === "") fail(tp(k), "empty path");
    return p === undefined ? undefined : resolve(dir, p);
  };
  const certFile = path("cert_file"), keyFile = path("key_file"), clientCAFile = path("client_ca_file");
  const cert = str(t.cert, tp("cert")), key = str(t.key, tp("key")), clientCA = str(t.client_ca, tp("client_ca"));
  const clientAuthRaw = str(t.client_auth_type, tp("client_auth_type"));
  const clientAuthType = oneOf(clientAuthRaw === "" ? undefined : clientAuthRaw, tp("client_auth_type"), clientAuthTypes, "NoClientCert");
  const versions = Object.keys(tlsVersions);
  const minVersion = oneOf(str(t.min_version, tp("min_version")), tp("min_version"), versions, "TLS12");
  const maxVersion = oneOf(str(t.max_version, tp("max_version")), tp("max_version"), versions, "TLS13");
  const suites = strings(t.cipher_suites, tp("cipher_suites")) ?? [];
  suites.forEach((s, i) => {
    if (tls13Suites.includes(s)) fail([...tp("cipher_suites"), String(i)], `${s} is a TLS 1.3 suite, and TLS 1.3's suites are not configurable`);
    oneOf(s, [...tp("cipher_suites"), String(i)], Object.keys(cipherSuites), "");
  });
  const curvePreferences = strings(t.curve_preferences, tp("curve_preferences")) ?? [];
  curvePreferences.forEach((c, i) => oneOf(c, [...tp("curve_preferences"), String(i)], Object.keys(curves), ""));
  bool(t.prefer_server_cipher_suites, tp("prefer_server_cipher_suites"), true); // accepted; Go ignores it too
  const clientAllowedSans = strings(t.client_allowed_sans, tp("client_allowed_sans"));

  const enabled = [certFile, keyFile, clientCAFile, cert, key, clientCA, clientAuthRaw].some((x) => x !== undefined && x !== "");
  const setTLSKeys = Object.keys(t);
  if (!enabled) {
    if (setTLSKeys.length) fail(tp(setTLSKeys[0]), "set without cert_file and key_file, so TLS would be off");
    return { file, http2, headers, users, rateLimit, hollow };
  }
  if (cert !== undefined && certFile !== undefined) fail(tp("cert"), "set together with cert_file; use one");
  if (key !== undefined && keyFile !== undefined) fail(tp("key"), "set together with key_file; use one");
  if (clientCA !== undefined && clientCAFile !== undefined) fail(tp("client_ca"), "set together with client_ca_file; use one");
  if (cert === undefined && certFile === undefined) fail(tp("cert_file"), "missing: TLS is configured but there is no cert_file (or cert)");
  if (key === undefined && keyFile === undefined) fail(tp("key_file"), "missing: TLS is configured but there is no key_file (or key)");
  if (tlsVersions[minVersion] > tlsVersions[maxVersion]) fail(tp("min_version"), `${minVersion} is above max_version ${maxVersion}`);
  const hasCA = clientCA !== undefined || clientCAFile !== undefined;
  if (hasCA && clientAuthType === "NoClientCert") {
    fail(tp(clientCAFile !== undefined ? "client_ca_file" : "client_ca"), "set, but client_auth_type is NoClientCert, so no client certificate is asked for");
  }
  if (!hasCA && (clientAuthType === "RequireAndVerifyClientCert" || clientAuthType === "VerifyClientCertIfGiven")) {
    fail(tp("client_ca_file"), `missing: client_auth_type ${clientAuthType} verifies client certificates against it`);
  }
  if (clientAllowedSans !== undefined && clientAuthType !== "RequireAnyClientCert" && clientAuthType !== "RequireClientCert" && clientAuthType !== "RequireAndVerifyClientCert") {
    fail(tp("client_allowed_sans"), "requires client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert");
  }
  const tls: TLSSettings = {
    certFile,
    keyFile,
    clientCAFile,
    cert,
    key,
    clientCA,
    clientAuthType,
    minVersion,
    maxVersion,
    cipherSuites: suites,
    curvePreferences,
    clientAllowedSans,
  };
  return { file, tls, http2, headers, users, rateLimit, hollow };
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/**
 * The warning for a certificate valid until `validTo` (X509Certificate's text), seen at
 * `now`: expired, or expiring within {@linkcode certificateWarningDays}; undefined otherwise.
 */
export function expiryWarning(key: string, validTo: string, now: number): string | undefined {
  const end = Date.parse(validTo);
  const daysLeft = (end - now) / 86_400_000;
  if (daysLeft < 0) return `${key}: the certificate expired on ${new Date(end).toISOString()}; clients that verify it will refuse to connect`;
  if (daysLeft < certificateWarningDays) return `${key}: the certificate expires in ${Math.floor(daysLeft)} days, on ${new Date(end).toISOString()}`;
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
        throw new Error(`${size} bytes, more than the ${maxWebConfigFileBytes} (1 MiB) read from a web config or the files it names`);
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
  if (!x509.checkPrivateKey(privateKey)) throw new WebConfigError(file, keyKey, `does not belong to the certificate (${x509.subject})`);
  const expiry = expiryWarning(certKey, x509.validTo, Date.now());
  if (expiry) warnings.push(expiry);
  if (s.keyFile !== undefined) {
    const mode = (await stat(s.keyFile)).mode & 0o777;
    if (mode & 0o077) {
      warnings.push(`${keyKey}: ${JSON.stringify(s.keyFile)} is readable by ${mode & 0o007 ? "others" : "its group"} (mode ${mode.toString(8).padStart(4, "0")}); chmod 600 it`);
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
