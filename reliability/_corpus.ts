// Hostile strings for the encoders, from a seeded PRNG so that a failure replays
// exactly: every character the exposition formats escape or could trip over, text
// that looks like exposition syntax, emoji, line and paragraph separators, NUL, and
// 64 KiB strings. Lone surrogates are kept apart: the model refuses them by design.
import type { Collector } from "../prometheus/collector.ts";
import { type Desc, newDesc } from "../prometheus/desc.ts";
import {
  CounterValue,
  GaugeValue,
  type Metric,
  mustNewConstHistogram,
  mustNewConstMetric,
  mustNewConstSummary,
} from "../prometheus/value.ts";
import { prng } from "../testing/http.ts";

/** The seed of every generated corpus; change it to explore, keep it to replay. */
export const SEED = 20_240_601;

/** Pieces that stress escaping and parsing, mixed into every generated string. */
const PIECES: readonly string[] = [
  "\\",
  '"',
  "\n",
  "\r",
  "\t",
  "\u0000",
  "\r\n",
  "\\n",
  '\\"',
  "\\\\",
  "}",
  "{",
  ",",
  "=",
  "#",
  " ",
  "  ",
  "# HELP x y\n",
  "# TYPE x counter\n",
  "# EOF\n",
  'a="b"',
  "} 1\n",
  "le=",
  "NaN",
  "+Inf",
  "😀",
  "👩‍👩‍👧‍👦",
  "🏳️‍🌈",
  "\u2028",
  "\u2029",
  "\u0085",
  "\ufeff",
  "\u200b",
  "\u007f",
  "\u00e9",
  "e\u0301",
  "日本語",
  "עברית",
  "\ufffd",
  "\uffff",
  "\u{10ffff}",
  "\u{1f4a9}",
];

function randomChar(r: () => number): string {
  const k = r();
  if (k < 0.5) return String.fromCharCode(0x20 + Math.floor(r() * 95)); // printable ASCII
  if (k < 0.6) return String.fromCharCode(Math.floor(r() * 0x20)); // control characters
  if (k < 0.85) {
    let c = Math.floor(r() * 0xffff);
    if (c >= 0xd800 && c <= 0xdfff) c -= 0x800; // no half of a surrogate pair here
    return String.fromCharCode(c);
  }
  return String.fromCodePoint(0x10000 + Math.floor(r() * 0xfffff)); // astral: a valid pair
}

function randomString(r: () => number, maxLen: number): string {
  let s = "";
  const target = Math.floor(r() * maxLen);
  while (s.length < target) s += r() < 0.4 ? PIECES[Math.floor(r() * PIECES.length)] : randomChar(r);
  return s;
}

/** A string of exactly `units` UTF-16 code units, hostile pieces throughout. */
function bigString(r: () => number, units: number): string {
  let s = "";
  while (s.length < units) s += r() < 0.05 ? PIECES[Math.floor(r() * PIECES.length)] : randomChar(r);
  s = s.slice(0, units);
  // Slicing may have cut a pair in half: end on an ASCII character instead.
  return s.isWellFormed() ? s : s.slice(0, -1) + "z";
}

/** Hand-picked edge cases, always part of the corpus. */
export const EDGE_CASES: readonly string[] = [
  "",
  " ",
  "\\",
  "\\\\",
  '"',
  '""',
  "\n",
  "\n\n",
  "\r",
  "\t",
  "\u0000",
  "\u0000\u0000",
  "trailing backslash\\",
  '\\"',
  "\\n",
  "a\nb",
  "😀",
  "\u2028",
  "\u2029",
  "\u{10ffff}",
  '} 1\n# EOF\nx{a="',
  "# HELP",
  "=",
  ",",
  "{}",
  "NaN",
  "+Inf",
  "-0",
  "x".repeat(64 * 1024),
  "\\".repeat(64 * 1024),
  '"'.repeat(64 * 1024),
  "\n".repeat(64 * 1024),
  "😀".repeat(32 * 1024),
  "\u2028".repeat(64 * 1024),
];

/**
 * `n` hostile strings: the edge cases, then generated ones (at most 200 UTF-16 units
 * each, and one in fifty a 64 KiB string). All are well-formed UTF-16.
 */
export function hostileStrings(n: number, seed = SEED): string[] {
  const r = prng(seed);
  const out = [...EDGE_CASES];
  while (out.length < n) out.push(r() < 0.02 ? bigString(r, 64 * 1024) : randomString(r, 200));
  return out.slice(0, n);
}

/** Sample values that have to survive the round trip exactly. */
export function hostileNumbers(n: number, seed = SEED): number[] {
  const r = prng(seed ^ 0x5bd1e995);
  const fixed = [
    0,
    1,
    -1,
    0.1,
    1e-300,
    5e-324,
    -5e-324,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    2 ** 53,
    2 ** 53 + 2,
    -(2 ** 53),
    1e21,
    1e-7,
    123456789.123456789,
    NaN,
    Infinity,
    -Infinity,
  ];
  const out = [...fixed];
  const f64 = new Float64Array(1), u32 = new Uint32Array(f64.buffer);
  while (out.length < n) {
    if (r() < 0.5) out.push((r() - 0.5) * 10 ** Math.floor(r() * 40 - 20));
    else {
      // Any bit pattern: subnormals, huge exponents, NaN payloads (all NaN to JS).
      u32[0] = Math.floor(r() * 2 ** 32);
      u32[1] = Math.floor(r() * 2 ** 32);
      out.push(f64[0]);
    }
  }
  return out.slice(0, n);
}

/** Strings no exposition can hold: lone halves of surrogate pairs. */
export const LONE_SURROGATES: readonly string[] = [
  "\ud800",
  "\udfff",
  "a\ud83d",
  "\ude00b",
  "\ud83d\ud83d",
  "\ude00\ud83d",
  "ok\ud800ok",
];

/**
 * A small sample for the real Prometheus scrape: one string of each kind, including a
 * 64 KiB one, with an index so that each series can be found again.
 */
export function sampleStrings(): string[] {
  return [
    "plain",
    "",
    "\\",
    '"',
    "\n",
    "\r",
    "\t",
    "\u0000",
    "a\u0000b",
    " leading blank",
    "trailing blank ",
    "\u0000 after NUL",
    "😀👩‍👩‍👧‍👦",
    "\u2028\u2029",
    "\\n literally",
    '} 1\n# EOF\nx{a="',
    "e\u0301 日本語 \ufeff",
    "end\\",
    "x".repeat(64 * 1024),
    ...hostileStrings(60).slice(EDGE_CASES.length, EDGE_CASES.length + 20),
  ];
}

/**
 * A collector "hostile" exposing `strings` through the collector API:
 * `${prefix}_help_NNNN` has strings[N] as its HELP; `${prefix}_label{i="N",v=strings[N]}`
 * carries it as a label value, as do every tenth N's counter, histogram and summary;
 * the first 20 are constant label values of `${prefix}_const`.
 */
export function hostileCollector(prefix: string, strings: readonly string[], numbers: readonly number[]): Collector {
  const helpDescs = strings.map((h, i) => newDesc(`${prefix}_help_${String(i).padStart(4, "0")}`, h));
  const labelDesc = newDesc(`${prefix}_label`, "Hostile label values, by index.", ["i", "v"]);
  const counterDesc = newDesc(`${prefix}_counter_total`, "Hostile label values on a counter.", ["i", "v"]);
  const histDesc = newDesc(`${prefix}_histogram`, "Hostile label values on a histogram.", ["i", "v"]);
  const summaryDesc = newDesc(`${prefix}_summary`, "Hostile label values on a summary.", ["i", "v"]);
  const constDescs = strings.slice(0, 20).map((c) =>
    newDesc(`${prefix}_const`, "Hostile constant label values.", ["i"], { c })
  );
  return {
    name: "hostile",
    describe(ch: (d: Desc) => void) {
      for (const d of [...helpDescs, labelDesc, counterDesc, histDesc, summaryDesc, ...constDescs]) ch(d);
    },
    collect(ch: (m: Metric) => void) {
      helpDescs.forEach((d, i) => ch(mustNewConstMetric(d, GaugeValue, numbers[i % numbers.length])));
      strings.forEach((v, i) => {
        const idx = String(i);
        ch(mustNewConstMetric(labelDesc, GaugeValue, numbers[i % numbers.length], idx, v));
        if (i % 10 === 0) {
          ch(mustNewConstMetric(counterDesc, CounterValue, i, idx, v));
          ch(mustNewConstHistogram(histDesc, i + 2, i / 3, new Map([[0.5, i], [1, i + 1]]), idx, v));
          ch(mustNewConstSummary(summaryDesc, i, i / 7, { 0.5: i / 2, 0.99: i }, idx, v));
        }
      });
      constDescs.forEach((d, i) => ch(mustNewConstMetric(d, GaugeValue, i, String(i))));
    },
  };
}
