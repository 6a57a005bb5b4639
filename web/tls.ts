// exporter-toolkit's TLS names (Go's crypto/tls) and what the adapters take instead.
import type { TLSOptions } from "./adapter.ts";

/** `min_version`/`max_version` names and their wire numbers. */
export const tlsVersions: Readonly<Record<string, number>> = {
  TLS10: 0x0301,
  TLS11: 0x0302,
  TLS12: 0x0303,
  TLS13: 0x0304,
};

/**
 * The `cipher_suites` names exporter-toolkit accepts for TLS 1.2 and below (Go's
 * `tls.CipherSuites()`), with OpenSSL's name for each.
 */
export const cipherSuites: Readonly<Record<string, string>> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: "AES128-SHA",
  TLS_RSA_WITH_AES_256_CBC_SHA: "AES256-SHA",
  TLS_RSA_WITH_AES_128_GCM_SHA256: "AES128-GCM-SHA256",
  TLS_RSA_WITH_AES_256_GCM_SHA384: "AES256-GCM-SHA384",
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: "ECDHE-ECDSA-AES128-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: "ECDHE-ECDSA-AES256-SHA",
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: "ECDHE-RSA-AES128-SHA",
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: "ECDHE-RSA-AES256-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: "ECDHE-ECDSA-AES128-GCM-SHA256",
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: "ECDHE-ECDSA-AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: "ECDHE-RSA-AES128-GCM-SHA256",
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: "ECDHE-RSA-AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-RSA-CHACHA20-POLY1305",
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
};

/**
 * TLS 1.3 suites: Go lists them but ignores them in `CipherSuites`, as TLS 1.3's
 * suites are not configurable; a web config naming one is refused rather than
 * silently not applied.
 */
export const tls13Suites: readonly string[] = [
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
];

/** `curve_preferences` names and OpenSSL's group names. */
export const curves: Readonly<Record<string, string>> = {
  CurveP256: "P-256",
  CurveP384: "P-384",
  CurveP521: "P-521",
  X25519: "X25519",
};

/** `client_auth_type` values: Go's `tls.ClientAuthType` names (RequireClientCert is the old name of RequireAnyClientCert). */
export const clientAuthTypes: readonly string[] = [
  "NoClientCert",
  "RequestClientCert",
  "RequireAnyClientCert",
  "RequireClientCert",
  "VerifyClientCertIfGiven",
  "RequireAndVerifyClientCert",
];

/** The TLS part of a web config, names as in the file, paths resolved against its folder. */
export interface TLSSettings {
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly clientCAFile?: string;
  /** Inline PEM (`cert`, `key`, `client_ca`). */
  readonly cert?: string;
  readonly key?: string;
  readonly clientCA?: string;
  readonly clientAuthType: string;
  readonly minVersion: string;
  readonly maxVersion: string;
  readonly cipherSuites: readonly string[];
  readonly curvePreferences: readonly string[];
  readonly clientAllowedSans?: readonly string[];
}

/**
 * The adapter's options for `s` with the PEM material read. Call after
 * web/capabilities.ts found nothing to refuse: only the client-auth types the
 * adapters implement map to something.
 */
export function toTLSOptions(s: TLSSettings, pem: { cert: string; key: string; clientCA?: string }): TLSOptions {
  const auth = s.clientAuthType;
  const clientAuth = auth === "RequestClientCert"
    ? "request"
    : auth === "RequireAndVerifyClientCert"
    ? "require-and-verify"
    : "none";
  if (clientAuth === "none" && auth !== "NoClientCert") {
    throw new Error(`client_auth_type ${auth} has no adapter setting`);
  }
  return {
    cert: pem.cert,
    key: pem.key,
    ...(pem.clientCA !== undefined ? { clientCA: pem.clientCA } : {}),
    clientAuth,
    minVersion: tlsVersions[s.minVersion],
    maxVersion: tlsVersions[s.maxVersion],
    ...(s.cipherSuites.length ? { ciphers: s.cipherSuites.map((c) => cipherSuites[c]).join(":") } : {}),
    ...(s.curvePreferences.length ? { curves: s.curvePreferences.map((c) => curves[c]).join(":") } : {}),
  };
}
