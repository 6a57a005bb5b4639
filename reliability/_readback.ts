// What the hostile collector (see _corpus.ts) must read back as, compared exactly with
// what a parser read: every HELP text, label value and sample value.
import type { StrictFamily } from "../testutil/strict_parser.ts";

/** A family as any parser reads it: name, HELP, and samples with labels and value. */
export interface ReadFamily {
  readonly name: string;
  readonly help: string | undefined;
  readonly samples: readonly {
    readonly name: string;
    readonly labels: Record<string, string>;
    readonly value: number;
  }[];
}

/** From our strict parser. */
export function fromStrict(fams: StrictFamily[]): ReadFamily[] {
  return fams.map((f) => ({
    name: f.name,
    help: f.help,
    samples: f.samples.map((s) => ({ name: s.name, labels: Object.fromEntries(s.labels), value: s.value })),
  }));
}

/** From readback.py's JSON (prometheus_client's parsers). */
export function fromPython(json: string): ReadFamily[] {
  const num = (r: string) => (r === "inf" ? Infinity : r === "-inf" ? -Infinity : r === "nan" ? NaN : Number(r));
  return (JSON.parse(json) as [string, string, [string, Record<string, string>, string][]][]).map((
    [name, help, ss],
  ) => ({
    name,
    help,
    samples: ss.map(([n, labels, v]) => ({ name: n, labels, value: num(v) })),
  }));
}

const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
const fmt = (x: unknown) => (typeof x === "string" ? show(x) : Object.is(x, -0) ? "-0" : String(x));
const show = (
  s: string,
) => (s.length > 60 ? `${JSON.stringify(s.slice(0, 60))}… (${s.length} units)` : JSON.stringify(s));

/**
 * Compares what was read with what the hostile collector `prefix` put in; returns
 * the mismatches ("got X, want Y"), empty when everything came back exactly.
 */
export function mismatches(
  read: ReadFamily[],
  prefix: string,
  strings: readonly string[],
  numbers: readonly number[],
  helpAsRead: (help: string) => string = (h) => h,
): string[] {
  const bad: string[] = [];
  const helps = new Map<string, string | undefined>();
  const samples = new Map<string, { labels: Record<string, string>; value: number }[]>();
  for (const f of read) {
    helps.set(f.name, f.help);
    for (const s of f.samples) {
      if (!samples.has(s.name)) samples.set(s.name, []);
      samples.get(s.name)!.push(s);
    }
  }
  const want = (what: string, got: unknown, exp: unknown) => {
    const eq = typeof got === "number" && typeof exp === "number" ? same(got, exp) : got === exp;
    if (!eq) {
      bad.push(`${what}: got ${fmt(got)}, want ${fmt(exp)}`);
    }
  };
  const num = (i: number) => numbers[i % numbers.length];
  strings.forEach((s, i) => {
    const name = `${prefix}_help_${String(i).padStart(4, "0")}`;
    want(`HELP of ${name}`, helps.get(name), helpAsRead(s));
    const v = samples.get(name);
    want(`samples of ${name}`, v?.length, 1);
    if (v?.length === 1) want(`value of ${name}`, v[0].value, num(i));
  });
  /** The samples of `sample` by `i` (and the numeric value of label `extra`). */
  const byIndex = (sample: string, extra?: string) => {
    const m = new Map<string, { labels: Record<string, string>; value: number }[]>();
    for (const s of samples.get(sample) ?? []) {
      const k = s.labels.i + (extra ? "/" + Number(s.labels[extra]) : "");
      if (!m.has(k)) m.set(k, []);
      m.get(k)!.push(s);
    }
    return m;
  };
  const cache = new Map<string, ReturnType<typeof byIndex>>();
  const memo = (sample: string, extra?: string) => {
    const k = sample + "|" + (extra ?? "");
    if (!cache.has(k)) cache.set(k, byIndex(sample, extra));
    return cache.get(k)!;
  };
  const checkFast = (sample: string, i: number, value: number, extra?: [string, string]) => {
    const got = memo(sample, extra?.[0]).get(String(i) + (extra ? "/" + Number(extra[1]) : ""));
    if (got?.length !== 1) {
      return void bad.push(
        `${sample}{i="${i}"${extra ? `,${extra[0]}="${extra[1]}"` : ""}}: got ${got?.length ?? 0} samples, want 1`,
      );
    }
    want(`label v of ${sample}{i="${i}"}`, got[0].labels.v, strings[i]);
    want(`value of ${sample}{i="${i}"}${extra ? ` ${extra[0]}=${extra[1]}` : ""}`, got[0].value, value);
  };
  strings.forEach((_, i) => {
    checkFast(`${prefix}_label`, i, num(i));
    if (i % 10 !== 0) return;
    checkFast(`${prefix}_counter_total`, i, i);
    checkFast(`${prefix}_histogram_bucket`, i, i, ["le", "0.5"]);
    checkFast(`${prefix}_histogram_bucket`, i, i + 1, ["le", "1"]);
    checkFast(`${prefix}_histogram_bucket`, i, i + 2, ["le", "+Inf"]);
    checkFast(`${prefix}_histogram_sum`, i, i / 3);
    checkFast(`${prefix}_histogram_count`, i, i + 2);
    checkFast(`${prefix}_summary`, i, i / 2, ["quantile", "0.5"]);
    checkFast(`${prefix}_summary`, i, i, ["quantile", "0.99"]);
    checkFast(`${prefix}_summary_sum`, i, i / 7);
    checkFast(`${prefix}_summary_count`, i, i);
  });
  const consts = samples.get(`${prefix}_const`) ?? [];
  want(`samples of ${prefix}_const`, consts.length, Math.min(20, strings.length));
  for (const s of consts) {
    want(`constant label c of ${prefix}_const{i="${s.labels.i}"}`, s.labels.c, strings[Number(s.labels.i)]);
  }
  return bad;
}

/**
 * What prometheus_client's text parser makes of a HELP text: Python's str.strip() of
 * the escaped text, then unescaped.
 */
export function pyStripHelp(help: string): string {
  const escaped = help.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
  return pyStrip(escaped).replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
}

function pyStrip(s: string): string {
  const ws = "[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
  return s.replace(new RegExp(`^${ws}+|${ws}+$`, "g"), "");
}
