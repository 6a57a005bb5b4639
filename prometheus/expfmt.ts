import { formatCanonicalFloat, formatValue } from "./_labels.ts";
import type { MetricFamily } from "./registry.ts";

/** The exposition formats the encoders write. */
export type Format = "text" | "openmetrics-1.0.0" | "openmetrics-0.0.1";

/** The Content-Type of each format. */
export const contentTypes: Readonly<Record<Format, string>> = {
  "text": "text/plain; version=0.0.4; charset=utf-8",
  "openmetrics-1.0.0": "application/openmetrics-text; version=1.0.0; charset=utf-8",
  "openmetrics-0.0.1": "application/openmetrics-text; version=0.0.1; charset=utf-8",
};

/** Size at which the chunked encoders hand out what they have written. */
const defaultChunkSize = 64 * 1024;

/**
 * Encodes families in the given format, yielding chunks of about `chunkSize`
 * characters, so that a server can stream a large exposition and let the event loop
 * run between chunks.
 */
export function* encodeChunks(
  families: readonly MetricFamily[],
  format: Format = "text",
  chunkSize = defaultChunkSize,
): Generator<string, void, undefined> {
  const om = format !== "text";
  let out = "";
  for (const f of families) {
    out += om ? openMetricsFamily(f) : textFamily(f);
    if (out.length >= chunkSize) {
      yield out;
      out = "";
    }
  }
  if (om) out += "# EOF\n";
  if (out !== "") yield out;
}

/** Encodes families as one string in the given format. */
export function encode(families: readonly MetricFamily[], format: Format = "text"): string {
  let s = "";
  for (const chunk of encodeChunks(families, format, Infinity)) s += chunk;
  return s;
}

/** `name{labels}` or `name{labels,extra}` where either part may be empty. */
function series(name: string, labels: string, extra = ""): string {
  if (labels === "") return extra === "" ? name : `${name}{${extra}}`;
  return extra === "" ? `${name}{${labels}}` : `${name}{${labels},${extra}}`;
}

function textFamily(f: MetricFamily): string {
  const header = `# HELP ${f.name} ${f.desc._helpText}\n# TYPE ${f.name} ${f.type}\n`;
  return header + samples(f, f.name, f.name, formatValue);
}

/**
 * OpenMetrics names a counter family without its `_total` suffix and suffixes every
 * counter sample with `_total`; the family's stored name is left as it is, so the
 * text format keeps exposing the name the collector chose.
 */
function openMetricsFamily(f: MetricFamily): string {
  const counter = f.type === "counter";
  const name = counter && f.name.endsWith("_total") ? f.name.slice(0, -"_total".length) : f.name;
  const type = f.type === "untyped" ? "unknown" : f.type;
  const header = `# HELP ${name} ${f.desc._helpOM}\n# TYPE ${name} ${type}\n`;
  return header + samples(f, name, counter ? name + "_total" : name, formatCanonicalFloat);
}

/**
 * The sample lines of a family. `valueName` names single-value samples; `bound`
 * formats `le` and `quantile` values, which OpenMetrics wants in canonical form.
 */
function samples(f: MetricFamily, name: string, valueName: string, bound: (v: number) => string): string {
  let out = "";
  for (const m of f.metrics) {
    switch (m.type) {
      case "histogram": {
        let inf = false;
        for (const [le, c] of m.buckets) {
          out += `${series(name + "_bucket", m._labels, `le="${bound(le)}"`)} ${formatValue(c)}\n`;
          inf ||= le === Infinity;
        }
        if (!inf) out += `${series(name + "_bucket", m._labels, 'le="+Inf"')} ${formatValue(m.count)}\n`;
        out += `${series(name + "_sum", m._labels)} ${formatValue(m.sum)}\n`;
        out += `${series(name + "_count", m._labels)} ${formatValue(m.count)}\n`;
        break;
      }
      case "summary":
        for (const [q, v] of m.quantiles) {
          out += `${series(name, m._labels, `quantile="${bound(q)}"`)} ${formatValue(v)}\n`;
        }
        out += `${series(name + "_sum", m._labels)} ${formatValue(m.sum)}\n`;
        out += `${series(name + "_count", m._labels)} ${formatValue(m.count)}\n`;
        break;
      case "invalid": // never gathered: the registry drops its family
        break;
      default:
        // The hot path at high cardinality: one template per series, no escaping.
        out += m._labels === "" ? `${valueName} ${formatValue(m.value)}\n` : `${valueName}{${m._labels}} ${formatValue(m.value)}\n`;
    }
  }
  return out;
}
