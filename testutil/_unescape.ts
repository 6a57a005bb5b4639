// The escapes of the exposition formats, shared by text_parser.ts and strict_parser.ts:
// the two differ in what they accept around a string, not in how a string is escaped.

/**
 * Resolves `\\` and `\n`, and `\"` when `quote` (label values; HELP in OpenMetrics).
 * Any other character after a backslash goes to `invalid`, which throws the parser's
 * own error; it gets "" for a backslash at the end of `s`.
 */
export function unescape(s: string, quote: boolean, invalid: (c: string) => never): string {
  if (!s.includes("\\")) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const n = s[++i];
    if (n === "\\") out += "\\";
    else if (n === "n") out += "\n";
    else if (n === '"' && quote) out += '"';
    else invalid(n ?? "");
  }
  return out;
}
