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

/**
 * Picks the exposition format for an Accept header, as promhttp does: OpenMetrics
 * only when `enableOpenMetrics` is set and the client prefers it; otherwise, and for
 * a missing, malformed or unknown header, text 0.0.4.
 */
export function negotiate(accept: string | null, enableOpenMetrics: boolean): Format {
  if (!accept || !enableOpenMetrics) return "text";
  for (const r of parseAccept(accept)) {
    if (r.type === "application" && r.subtype === "openmetrics-text") {
      const v = r.params.get("version");
      if (v === undefined || v === "1.0.0") return "openmetrics-1.0.0";
      if (v === "0.0.1") return "openmetrics-0.0.1";
      continue;
    }
    if (r.type === "text" && r.subtype === "plain") {
      const v = r.params.get("version");
      if (v === undefined || v === "0.0.4") return "text";
      continue;
    }
    if (r.type === "*" || (r.type === "text" && r.subtype === "*")) return "text";
  }
  return "text";
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
