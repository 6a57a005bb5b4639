// A parser for the Prometheus text format 0.0.4 that builds the families Go's
// expfmt.TextParser builds: the same grouping of `_sum`, `_count` and `_bucket` samples
// into summaries and histograms, the same rules for HELP and TYPE, the same errors at
// the same line numbers. promlint lints what that parser returns, so the linter here
// has to see exactly those families to report what `promtool check metrics` reports.
// strict_parser.ts is the other reader, for checking what the encoders write.
import { unescape } from "./_unescape.ts";

/** The metric types of the text format. */
export type FamilyType = "counter" | "gauge" | "summary" | "histogram" | "untyped";

/** One sample line. */
export interface TextSample {
  /** The name as written, e.g. `rpc_seconds_count`. */
  readonly name: string;
  /** All label pairs as written, `le` and `quantile` included, in the order written. */
  readonly labels: readonly (readonly [string, string])[];
  readonly value: number;
  readonly timestampMs: number | undefined;
  /** 1-based line number. */
  readonly line: number;
}

/**
 * A series, as Go's `dto.Metric`: for counters, gauges and untyped families one per
 * sample line; for summaries and histograms one per label set, holding all the
 * samples (quantiles or buckets, `_sum`, `_count`) of that set.
 */
export interface TextMetric {
  /** The labels of the first sample, without `quantile` (summary) or `le` (histogram). */
  readonly labels: readonly (readonly [string, string])[];
  readonly samples: TextSample[];
}

/** A metric family with at least one series. */
export interface TextFamily {
  readonly name: string;
  /** Undefined when there is no HELP line, or it has no text (as Go's parser, which leaves Help nil). */
  help: string | undefined;
  type: FamilyType;
  readonly metrics: TextMetric[];
}

/**
 * A syntax error, worded and numbered as Go's `expfmt.ParseError`.
 *
 * @example
 * ```ts
 * try { parseText("up one\n"); } catch (e) { (e as ParseError).line; } // 1
 * ```
 */
export class ParseError extends Error {
  /** 1-based line number. */
  readonly line: number;
  constructor(line: number, msg: string) {
    super(`text format parsing error in line ${line}: ${msg}`);
    this.name = "ParseError";
    this.line = line;
  }
}

/** Options for {@linkcode parseText}. */
export interface ParseOptions {
  /**
   * Accept blanks at the end of a line and a last line without a newline, which Go's
   * parser rejects. For expected texts written by hand, where they mean nothing.
   */
  readonly lenient?: boolean;
  /**
   * Accept metric and label names beyond the legacy grammar written quoted, as
   * client_golang 1.24's parser (prometheus/common with UTF-8 validation) does:
   * `# TYPE "http.server.duration" histogram`, `{"http.server.duration","service.name"="api"} 1`.
   * Off by default: promtool 2.42, which promlint follows, knows no quoted names.
   */
  readonly utf8?: boolean;
}

const types: ReadonlySet<string> = new Set(["counter", "gauge", "summary", "histogram", "untyped"]);
const metricNameStart = /[a-zA-Z_:]/;
const metricNameChar = /[a-zA-Z0-9_:]/;
const labelNameStart = /[a-zA-Z_]/;
const labelNameChar = /[a-zA-Z0-9_]/;
// Go's strconv.ParseFloat, less what expfmt refuses (hex floats, `_`).
const floatRe = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity)$|^nan$/i;
const intRe = /^[+-]?\d+$/;

/**
 * Parses a float as expfmt does (Go's strconv.ParseFloat without hex floats or `_`);
 * undefined when it is not one.
 *
 * @example
 * ```ts
 * parseFloat64("+Inf"); // Infinity
 * parseFloat64("0x10"); // undefined
 * ```
 */
export function parseFloat64(s: string): number | undefined {
  if (!floatRe.test(s)) return undefined;
  const lower = s.toLowerCase();
  if (lower === "nan") return NaN;
  if (lower.endsWith("inf") || lower.endsWith("infinity")) return s.startsWith("-") ? -Infinity : Infinity;
  return Number(s);
}

interface Builder extends TextFamily {
  typeSet: boolean;
  /** Summary and histogram series by label signature. */
  readonly bySignature: Map<string, TextMetric>;
}

function baseName(name: string, suffixes: readonly string[]): string | undefined {
  for (const s of suffixes) {
    if (name.length > s.length && name.endsWith(s)) return name.slice(0, -s.length);
  }
  return undefined;
}

/**
 * Parses a text exposition into its families, in the order they first appear,
 * leaving out families without samples (as Go's parser). Throws {@linkcode ParseError}.
 *
 * @example
 * ```ts
 * const [family] = parseText("# TYPE up gauge\nup 1\n");
 * family.type; // "gauge"
 * ```
 */
export function parseText(text: string, options: ParseOptions = {}): TextFamily[] {
  const families = new Map<string, Builder>();
  const lines = text.split("\n");
  // The part after the last newline: blanks only, or (strictly) an incomplete line,
  // which Go's parser reports once it has read the lines before it.
  const last = lines.pop()!;
  const unterminated = !options.lenient && last.replace(/[ \t]/g, "") !== "";
  if (options.lenient) lines.push(last);

  /** The family a name belongs to: its own, or the summary/histogram it is a part of. */
  const familyFor = (name: string): Builder => {
    const own = families.get(name);
    if (own) return own;
    const s = baseName(name, ["_count", "_sum"]);
    const summary = s === undefined ? undefined : families.get(s);
    if (summary?.type === "summary" && summary.typeSet) return summary;
    const h = baseName(name, ["_count", "_sum", "_bucket"]);
    const histogram = h === undefined ? undefined : families.get(h);
    if (histogram?.type === "histogram" && histogram.typeSet) return histogram;
    const f: Builder = { name, help: undefined, type: "untyped", typeSet: false, metrics: [], bySignature: new Map() };
    families.set(name, f);
    return f;
  };

  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    let line = options.lenient ? raw.replace(/[ \t]+$/, "") : raw;
    let pos = 0;
    const fail = (msg: string): never => {
      throw new ParseError(lineNo, msg);
    };
    const badEscape = (c: string): never => fail(`invalid escape sequence '\\${c}'`);
    const skipBlanks = () => {
      while (line[pos] === " " || line[pos] === "\t") pos++;
    };
    const atEnd = () => pos >= line.length;
    const readWhile = (start: RegExp, rest: RegExp): string => {
      const from = pos;
      if (pos < line.length && start.test(line[pos])) {
        pos++;
        while (pos < line.length && rest.test(line[pos])) pos++;
      }
      return line.slice(from, pos);
    };
    /** A quoted name (`"…"`, escapes as in label values) when UTF-8 names are on; undefined otherwise. */
    const readQuoted = (): string | undefined => {
      if (!options.utf8 || line[pos] !== '"') return undefined;
      pos++;
      const from = pos;
      let escaped = false;
      while (pos < line.length && (escaped || line[pos] !== '"')) {
        escaped = !escaped && line[pos] === "\\";
        pos++;
      }
      if (atEnd()) fail(`unterminated quoted name ${JSON.stringify(line.slice(from))}`);
      const name = unescape(line.slice(from, pos), true, badEscape);
      pos++;
      if (name === "") fail("empty quoted name");
      return name;
    };
    const readUntilBlank = (): string => {
      const from = pos;
      while (pos < line.length && line[pos] !== " " && line[pos] !== "\t") pos++;
      return line.slice(from, pos);
    };

    skipBlanks();
    if (atEnd()) return;
    if (line[pos] === "#") {
      pos++;
      skipBlanks();
      const keyword = readUntilBlank();
      if (atEnd() || (keyword !== "HELP" && keyword !== "TYPE")) return; // a plain comment
      skipBlanks();
      const name = readQuoted() ?? readWhile(metricNameStart, metricNameChar);
      if (atEnd()) return;
      if (line[pos] !== " " && line[pos] !== "\t") fail("invalid metric name in comment");
      const f = familyFor(name);
      skipBlanks();
      if (atEnd()) return;
      const rest = line.slice(pos);
      if (keyword === "HELP") {
        if (f.help !== undefined) fail(`second HELP line for metric name ${JSON.stringify(f.name)}`);
        f.help = unescape(rest, false, badEscape);
      } else {
        if (f.typeSet) {
          fail(`second TYPE line for metric name ${JSON.stringify(f.name)}, or TYPE reported after samples`);
        }
        const t = rest.toLowerCase();
        if (!types.has(t)) fail(`unknown metric type ${JSON.stringify(rest)}`);
        f.type = t as FamilyType;
        f.typeSet = true;
      }
      return;
    }

    let name = readWhile(metricNameStart, metricNameChar);
    // A quoted name goes first inside the braces: {"name",labels…} or {"name"}.
    if (name === "" && options.utf8 && line[pos] === "{") {
      const at = pos;
      pos++;
      skipBlanks();
      const q = readQuoted();
      skipBlanks();
      if (q !== undefined && (line[pos] === "," || line[pos] === "}")) {
        name = q;
        if (line[pos] === ",") line = line.slice(0, at) + "{" + line.slice(pos + 1);
        else line = line.slice(0, at) + line.slice(pos + 1);
        pos = at;
      } else pos = at;
    }
    if (name === "") fail("invalid metric name");
    const f = familyFor(name);
    f.typeSet = true; // a sample fixes the type, untyped if there was no TYPE line
    const special = f.type === "summary" ? "quantile" : f.type === "histogram" ? "le" : undefined;
    const labels: [string, string][] = [];
    const own: [string, string][] = []; // without le/quantile
    skipBlanks();
    if (line[pos] === "{") {
      pos++;
      for (;;) {
        skipBlanks();
        if (line[pos] === "}") break;
        const ln = readQuoted() ?? readWhile(labelNameStart, labelNameChar);
        if (ln === "") fail(`invalid label name for metric ${JSON.stringify(f.name)}`);
        if (ln === "__name__") fail(`label name "__name__" is reserved`);
        if (ln !== special) {
          if (own.some(([n]) => n === ln)) fail(`duplicate label names for metric ${JSON.stringify(f.name)}`);
          own.push([ln, ""]);
        }
        skipBlanks();
        if (line[pos] !== "=") fail(`expected '=' after label name, found ${goQuoteByte(line[pos])}`);
        pos++;
        skipBlanks();
        if (line[pos] !== '"') fail(`expected '"' at start of label value, found ${goQuoteByte(line[pos])}`);
        pos++;
        const from = pos;
        let escaped = false;
        while (pos < line.length && (escaped || line[pos] !== '"')) {
          escaped = !escaped && line[pos] === "\\";
          pos++;
        }
        if (atEnd()) fail(`label value ${JSON.stringify(line.slice(from))} contains unescaped new-line`);
        const value = unescape(line.slice(from, pos), true, badEscape);
        pos++;
        if (ln === special && parseFloat64(value) === undefined) {
          fail(`expected float as value for '${ln}' label, got ${JSON.stringify(value)}`);
        }
        labels.push([ln, value]);
        if (ln !== special) own[own.length - 1][1] = value;
        skipBlanks();
        if (line[pos] === ",") {
          pos++;
          continue;
        }
        if (line[pos] !== "}") fail(`unexpected end of label value ${JSON.stringify(value)}`);
        break;
      }
      pos++;
      skipBlanks();
    }
    const token = readUntilBlank();
    const value = parseFloat64(token);
    if (value === undefined) fail(`expected float as value, got ${JSON.stringify(token)}`);
    let timestampMs: number | undefined;
    if (!atEnd()) {
      skipBlanks();
      const ts = readUntilBlank();
      if (!intRe.test(ts)) fail(`expected integer as timestamp, got ${JSON.stringify(ts)}`);
      timestampMs = Number(ts);
      if (!atEnd()) fail(`spurious string after timestamp: ${JSON.stringify(line.slice(pos))}`);
    }
    const sample: TextSample = { name, labels, value: value!, timestampMs, line: lineNo };
    if (special) {
      const signature = JSON.stringify([...own].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
      let m = f.bySignature.get(signature);
      if (!m) {
        m = { labels: own, samples: [] };
        f.bySignature.set(signature, m);
        f.metrics.push(m);
      }
      m.samples.push(sample);
    } else {
      f.metrics.push({ labels: own, samples: [sample] });
    }
  });

  if (unterminated) throw new ParseError(lines.length + 1, "unexpected end of input stream");
  const out: TextFamily[] = [];
  for (const f of families.values()) {
    if (f.metrics.length > 0) out.push({ name: f.name, help: f.help, type: f.type, metrics: f.metrics });
  }
  return out;
}

/** A byte as Go's %q prints it, for error messages. */
function goQuoteByte(c: string | undefined): string {
  if (c === undefined) return "'\\n'";
  return c === "'" ? "'\\''" : `'${c}'`;
}
