// A strict reader of the two exposition formats, to read back what the encoders wrote
// and compare it exactly with what was put in. It follows the grammar of the text
// format 0.0.4 and OpenMetrics 1.0.0 as written, not as any client writes it: a line it
// cannot place, an unknown escape, invalid UTF-8 or a missing `# EOF` is an error that
// names the line. Timestamps and exemplars are not used by the kit and are refused.
// text_parser.ts is the other reader, with Go's leniencies, for promlint and testutil.
import { unescape } from "./_unescape.ts";

/** One sample line: its name, label pairs in the order written, and its value. */
export interface StrictSample {
  readonly name: string;
  readonly labels: [string, string][];
  readonly value: number;
}

/** One family: the name in its HELP/TYPE lines, the unescaped HELP, the type, its samples. */
export interface StrictFamily {
  readonly name: string;
  help: string | undefined;
  type: string | undefined;
  readonly samples: StrictSample[];
}

const nameRe = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const labelNameRe = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const floatRe = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The error of a backslash that starts no escape, at `where`. */
function badEscape(where: string): (c: string) => never {
  return (c) => {
    throw new Error(`${where}: invalid escape sequence \\${c === "" ? "(end)" : JSON.stringify(c)}`);
  };
}

function parseValue(s: string, where: string): number {
  if (s === "NaN") return NaN;
  if (s === "+Inf" || s === "Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (!floatRe.test(s)) throw new Error(`${where}: ${JSON.stringify(s)} is not a sample value`);
  return Number(s);
}

/** Parses `name{a="x",b="y"} value` starting at the line's beginning. */
function parseSample(line: string, where: string): StrictSample {
  const m = line.match(nameRe);
  if (!m) throw new Error(`${where}: no metric name`);
  const name = m[0];
  let i = name.length;
  const labels: [string, string][] = [];
  if (line[i] === "{") {
    i++;
    while (line[i] !== "}") {
      const ln = line.slice(i).match(labelNameRe);
      if (!ln) throw new Error(`${where}: no label name at column ${i}`);
      i += ln[0].length;
      if (line.slice(i, i + 2) !== '="') throw new Error(`${where}: want =" after label ${ln[0]}`);
      i += 2;
      let j = i;
      while (j < line.length && line[j] !== '"') j += line[j] === "\\" ? 2 : 1;
      if (j >= line.length) throw new Error(`${where}: unterminated value of label ${ln[0]}`);
      labels.push([ln[0], unescape(line.slice(i, j), true, badEscape(`${where} label ${ln[0]}`))]);
      i = j + 1;
      if (line[i] === ",") i++;
      else if (line[i] !== "}") {
        throw new Error(`${where}: want , or } after label ${ln[0]}, got ${JSON.stringify(line[i])}`);
      }
    }
    i++;
  }
  if (line[i] !== " ") throw new Error(`${where}: want one space before the value`);
  const rest = line.slice(i + 1);
  if (rest.includes(" ")) {
    throw new Error(`${where}: timestamps and exemplars are not expected: ${JSON.stringify(rest)}`);
  }
  return { name, labels, value: parseValue(rest, where) };
}

/**
 * Parses a text 0.0.4 (`om` false) or OpenMetrics 1.0.0 (`om` true) exposition into
 * its families, in order. Samples are filed under the family whose HELP/TYPE came last.
 */
export function parseExposition(bytes: Uint8Array, om: boolean): StrictFamily[] {
  const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  if (!text.endsWith("\n")) throw new Error("the exposition does not end with a newline");
  const lines = text.slice(0, -1).split("\n");
  const families: StrictFamily[] = [];
  let current: StrictFamily | undefined;
  const family = (name: string) => {
    if (current?.name !== name) families.push(current = { name, help: undefined, type: undefined, samples: [] });
    return current;
  };
  let eof = false;
  lines.forEach((line, n) => {
    const where = `line ${n + 1}`;
    if (eof) throw new Error(`${where}: content after # EOF`);
    if (om && line === "# EOF") {
      eof = true;
      return;
    }
    const meta = line.match(/^# (HELP|TYPE|UNIT) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?/);
    if (meta) {
      const f = family(meta[2]);
      const rest = line.slice(meta[0].length);
      if (meta[1] === "HELP") {
        if (f.help !== undefined) throw new Error(`${where}: second HELP for ${f.name}`);
        f.help = unescape(rest, om, badEscape(`${where} HELP`));
      } else if (meta[1] === "TYPE") {
        if (f.type !== undefined) throw new Error(`${where}: second TYPE for ${f.name}`);
        f.type = rest;
      } else if (!om) throw new Error(`${where}: # UNIT is OpenMetrics only`);
      return;
    }
    if (line.startsWith("#")) {
      if (om) throw new Error(`${where}: OpenMetrics allows no other comments`);
      return;
    }
    if (line === "" && !om) return;
    const s = parseSample(line, where);
    if (!current || !s.name.startsWith(current.name)) family(s.name);
    current!.samples.push(s);
  });
  if (om && !eof) throw new Error("the OpenMetrics exposition does not end with # EOF");
  return families;
}
