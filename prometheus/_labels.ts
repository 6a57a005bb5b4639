// The name grammar of metrics and labels. (Escaping and number formatting: _bytes.ts.)

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
