// The name grammar of metrics and labels, as client_golang 1.24+ (model.UTF8Validation):
// any non-empty valid UTF-8. (Legacy names and escaping: escaping.ts; escaping and
// number formatting of the text formats: _bytes.ts.)

/** Reports whether `name` is a valid metric name: non-empty, valid UTF-8. */
export function isValidMetricName(name: string): boolean {
  return name.length > 0 && name.isWellFormed();
}

/**
 * Reports whether `name` is a valid, non-reserved label name: non-empty, valid UTF-8,
 * not starting with `__` (client_golang's checkLabelName).
 */
export function isValidLabelName(name: string): boolean {
  return name.length > 0 && name.isWellFormed() && !name.startsWith("__");
}

/**
 * Reports whether `s` can be exposed: Prometheus requires valid UTF-8, which a JS
 * string with a lone surrogate cannot be encoded as.
 */
export function isValidUTF8(s: string): boolean {
  return s.isWellFormed();
}
