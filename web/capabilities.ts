// What each runtime's server can enforce of a web config. A setting it cannot
// enforce is refused at start, with the reason, rather than served without: a
// client-certificate check or a minimum TLS version that is silently not applied
// is worse than none, because it is believed to be there.
//
// Established by experiment on the pinned versions (Bun 1.4.5, Deno 2.9.6, Node 20)
// with openssl s_client handshakes; web/tls_test.ts repeats the ones that matter.
//
// On Bun both servers (--web.server=runtime, Bun.serve; --web.server=kit, the kit's
// HTTP/1.1 server on Bun.listen) are given the same TLS options, which Bun parses alike
// (web/tls_test.ts passes on both: `TEST_WEB_SERVER=kit bun test web/tls_test.ts`), so
// what is refused here holds for either. Bun.listen would give more: with requestCert
// and without rejectUnauthorized its handshake callback reports whether the client's
// certificate verified (`socket.authorized`, the error: "unable to get issuer
// certificate" without one, "unable to verify the first certificate" from another
// CA) and `getPeerCertificate().subjectaltname` (checked 2026-12-03), which would let
// the kit's server enforce RequireAnyClientCert, VerifyClientCertIfGiven and
// client_allowed_sans; it does not yet, so they stay refused.
import type { WebConfig } from "./webconfig.ts";

/** The runtimes an adapter exists for. */
export type Runtime = "bun" | "deno" | "node";

/** One setting a runtime cannot enforce: its key in the web config and why. */
export interface Refusal {
  readonly key: string;
  readonly why: string;
}

/** The runtime this process runs on. */
export function currentRuntime(): Runtime {
  return "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
}

/**
 * The settings of `c` that `runtime` cannot enforce, most important first; empty when
 * it can serve `c` as written.
 *
 * @example
 * ```ts
 * const refused = unenforceable(await parseWebConfig(text, file), currentRuntime());
 * if (refused.length) throw new Error(`${refused[0].key}: ${refused[0].why}`);
 * ```
 */
export function unenforceable(c: WebConfig, runtime: Runtime): Refusal[] {
  const out: Refusal[] = [];
  const t = c.tls;
  const key = (k: string) => `tls_server_config.${k}`;
  if (runtime === "node") {
    // node:https enforces versions, cipher suites, curves and verified client
    // certificates itself (web/_serve_node.ts passes them on); what the adapter would
    // have to check by hand after the handshake is refused instead.
    if (t?.clientAllowedSans !== undefined) {
      out.push({
        key: key("client_allowed_sans"),
        why:
          "the Node adapter does not check the client certificate's SANs; use client_ca_file with RequireAndVerifyClientCert",
      });
    }
    const a = t?.clientAuthType;
    if (a === "RequireAnyClientCert" || a === "VerifyClientCertIfGiven") {
      out.push({
        key: key("client_auth_type"),
        why: `${a} is not available on Node: node:https either verifies and requires a certificate or neither; ` +
          "use RequireAndVerifyClientCert with client_ca_file",
      });
    }
  } else if (runtime === "bun") {
    if (t?.clientAllowedSans !== undefined) {
      out.push({
        key: key("client_allowed_sans"),
        why: "Bun.serve does not give the request handler the client's certificate, so its SANs cannot be checked " +
          "(nor does the kit's server on Bun, --web.server=kit, check them yet)",
      });
    }
    const a = t?.clientAuthType;
    if (a === "RequireAnyClientCert" || a === "RequireClientCert") {
      out.push({
        key: key("client_auth_type"),
        why:
          `${a} is not available on Bun: Bun's TLS (Bun.serve, and Bun.listen under --web.server=kit) can require a client certificate only by also verifying it ` +
          "(requestCert without rejectUnauthorized lets clients without one in); use RequireAndVerifyClientCert with client_ca_file",
      });
    }
    if (a === "VerifyClientCertIfGiven") {
      out.push({
        key: key("client_auth_type"),
        why:
          "VerifyClientCertIfGiven is not available on Bun: with rejectUnauthorized Bun's TLS (either server) also refuses clients " +
          'that send no certificate ("certificate required"); use RequireAndVerifyClientCert',
      });
    }
  } else {
    if (t?.clientAllowedSans !== undefined) {
      out.push({
        key: key("client_allowed_sans"),
        why: "Deno.listenTls cannot ask for client certificates, so there are no SANs to check",
      });
    }
    if (t && t.clientAuthType !== "NoClientCert") {
      out.push({
        key: key("client_auth_type"),
        why:
          `${t.clientAuthType} is not available on Deno: Deno.listenTls' TLS options are cert and key only and it ignores ` +
          "requestCert and ca (a client without a certificate still gets in); run the Bun build (./exporter) for client certificates",
      });
    }
    if (t && t.minVersion === "TLS13") {
      out.push({
        key: key("min_version"),
        why: "Deno.listenTls always accepts TLS 1.2 (rustls; the minimum is not configurable)",
      });
    }
    if (t && t.maxVersion !== "TLS13") {
      out.push({
        key: key("max_version"),
        why: "Deno.listenTls always offers TLS 1.3 (rustls; the maximum is not configurable)",
      });
    }
    if (t && t.cipherSuites.length) {
      out.push({
        key: key("cipher_suites"),
        why: "Deno.listenTls uses rustls' fixed cipher suites; they are not configurable",
      });
    }
    if (t && t.curvePreferences.length) {
      out.push({
        key: key("curve_preferences"),
        why: "Deno.listenTls uses rustls' fixed key-exchange groups; they are not configurable",
      });
    }
  }
  return out;
}
