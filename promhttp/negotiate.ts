import { defaultEscaping, type EscapingScheme, escapingSchemes } from "../prometheus/escaping.ts";
import type { Format } from "../prometheus/expfmt.ts";

interface MediaRange {
  type: string;
  subtype: string;
  params: Map<string, string>;
  q: number;
  index: number;
}

/** Parses an Accept-style header; malformed parts are skipped, never thrown on. */
function parseAccept(header: string): MediaRange[] {
  const out: MediaRange[] = [];
  header.split(",").forEach((part, index) => {
    const [range, ...rawParams] = part.split(";");
    const m = range.trim().toLowerCase().match(/^([a-z0-9!#$&^_.+*-]+)\/([a-z0-9!#$&^_.+*-]+)$/);
    if (!m) return;
    const params = new Map<string, string>();
    let q = 1;
    for (const p of rawParams) {
      const eq = p.indexOf("=");
      if (eq < 0) continue;
      const k = p.slice(0, eq).trim().toLowerCase();
      const v = p.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1");
      if (k === "q") {
        const n = Number(v);
        q = v !== "" && Number.isFinite(n) && n >= 0 && n <= 1 ? n : 0;
      } else params.set(k, v);
    }
    if (q > 0) out.push({ type: m[1], subtype: m[2], params, q, index });
  });
  // Highest q first; among equals, the more specific range, then the earlier one.
  const specificity = (r: MediaRange) => (r.type === "*" ? 0 : r.subtype === "*" ? 1 : 2 + r.params.size);
  return out.sort((a, b) => b.q - a.q || specificity(b) - specificity(a) || a.index - b.index);
}

/** What a scrape is answered with: the format, and how names beyond the legacy grammar are written. */
export interface Negotiated {
  /** The exposition format. */
  readonly format: Format;
  /** How names beyond the legacy grammar are written (`escaping=` in the Content-Type). */
  readonly escaping: EscapingScheme;
}

const protoType = "application/vnd.google.protobuf";
const protoProtocol = "io.prometheus.client.MetricFamily";

/**
 * Picks the exposition format and escaping scheme for an Accept header, as
 * prometheus/common's `expfmt.Negotiate` (v0.70, which client_golang 1.24 uses) and,
 * with `enableOpenMetrics`, `NegotiateIncludingOpenMetrics`. The media ranges are
 * tried from the highest `q`; the first one the kit serves wins:
 * - protobuf (`application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited`),
 *   always, as client_golang (it renames nothing, so it needs no opt-in);
 * - `text/plain` of version 0.0.4 or none;
 * - with `enableOpenMetrics`, `application/openmetrics-text` of version 1.0.0, or
 *   0.0.1 or none (then 0.0.1, as Go).
 * Nothing matching (a missing, malformed or unknown header, `*\/*` alone): text.
 *
 * The escaping scheme is the `escaping=` parameter of the last range looked at that
 * names a known one, up to and including the one chosen — as Go's loop, so Prometheus
 * 3's `text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3`
 * gets text 0.0.4 with UTF-8 names — else `underscores`.
 */
export function negotiate(accept: string | null, enableOpenMetrics: boolean): Negotiated {
  if (!accept) return plainText;
  // A scraper sends the same header on every scrape: its answer is kept, for a few
  // headers of a reasonable length (parsing one cost a default scrape ~3 µs).
  if (accept.length > memoMaxLength) return negotiateAccept(accept, enableOpenMetrics);
  const memo = enableOpenMetrics ? memoOpenMetrics : memoText;
  let n = memo.get(accept);
  if (n === undefined) {
    if (memo.size >= memoMaxEntries) memo.clear();
    memo.set(accept, n = negotiateAccept(accept, enableOpenMetrics));
  }
  return n;
}

const plainText: Negotiated = Object.freeze({ format: "text", escaping: defaultEscaping });
const memoText = new Map<string, Negotiated>(), memoOpenMetrics = new Map<string, Negotiated>();
const memoMaxEntries = 32, memoMaxLength = 1024;

function negotiateAccept(accept: string, enableOpenMetrics: boolean): Negotiated {
  let escaping = defaultEscaping;
  for (const r of parseAccept(accept)) {
    const e = r.params.get("escaping");
    if (e !== undefined && (escapingSchemes as readonly string[]).includes(e)) escaping = e as EscapingScheme;
    const v = r.params.get("version");
    const type = `${r.type}/${r.subtype}`;
    // Go also serves encoding=text and compact-text, protobuf's debugging forms; the
    // kit does not, and such a range is passed over like any unknown one.
    if (type === protoType && r.params.get("proto") === protoProtocol && r.params.get("encoding") === "delimited") {
      return Object.freeze({ format: "protobuf", escaping });
    }
    if (type === "text/plain" && (v === undefined || v === "0.0.4")) return Object.freeze({ format: "text", escaping });
    if (
      enableOpenMetrics && type === "application/openmetrics-text" &&
      (v === undefined || v === "0.0.1" || v === "1.0.0")
    ) {
      return Object.freeze({ format: v === "1.0.0" ? "openmetrics-1.0.0" : "openmetrics-0.0.1", escaping });
    }
  }
  return Object.freeze({ format: "text", escaping });
}

/** Reports whether an Accept-Encoding header allows gzip (`gzip` or `*`, q > 0). */
export function acceptsGzip(header: string | null): boolean {
  if (!header) return false;
  let star = false;
  for (const part of header.split(",")) {
    const [coding, ...params] = part.split(";");
    const c = coding.trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split("=").map((s) => s.trim());
      if (k.toLowerCase() === "q") q = Number(v);
    }
    const allowed = Number.isFinite(q) && q > 0;
    if (c === "gzip" || c === "x-gzip") return allowed;
    if (c === "*") star = allowed;
  }
  return star;
}
