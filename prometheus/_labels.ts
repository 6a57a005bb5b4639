// Name grammar and escaping shared by the model and the encoders.

const metricNameRe = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelNameRe = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Reports whether `name` is a valid Prometheus metric name. */
export function isValidMetricName(name: string): boolean {
  return metricNameRe.test(name);
}

/** Reports whether `name` is a valid, non-reserved label name. */
export function isValidLabelName(name: string): boolean {
  return labelNameRe.test(name) && !name.startsWith("__");
}

/**
 * Reports whether `s` can be exposed: Prometheus requires valid UTF-8, which a JS
 * string with a lone surrogate cannot be encoded as.
 */
export function isValidUTF8(s: string): boolean {
  return s.isWellFormed();
}

const labelValueEscapesRe = /[\\"\n]/;
const labelValueEscapesReG = /[\\"\n]/g;
const helpEscapesRe = /[\\\n]/;
const helpEscapesReG = /[\\\n]/g;

function escapeChar(c: string): string {
  return c === "\n" ? "\\n" : "\\" + c;
}

/** Escapes a label value for both text formats: `\`, `"` and newline. */
export function escapeLabelValue(v: string): string {
  // Most values need no escaping; testing first avoids allocating a new string.
  return labelValueEscapesRe.test(v) ? v.replace(labelValueEscapesReG, escapeChar) : v;
}

/** Escapes a HELP text for the Prometheus text format: `\` and newline. */
export function escapeHelpText(h: string): string {
  return helpEscapesRe.test(h) ? h.replace(helpEscapesReG, escapeChar) : h;
}

/**
 * Formats a sample value as both text formats accept it: `NaN`, `+Inf`, `-Inf`, and
 * JavaScript's shortest round-trip form otherwise (integers below 1e21 without an
 * exponent).
 */
export function formatValue(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v); // NaN -> "NaN"
}

/**
 * Formats `le` and `quantile` label values in the canonical OpenMetrics form, where
 * an integral bound carries ".0" so that `1` and `1.0` name the same series.
 */
export function formatCanonicalFloat(v: number): string {
  const s = formatValue(v);
  return Number.isInteger(v) && !s.includes("e") ? s + ".0" : s;
}
