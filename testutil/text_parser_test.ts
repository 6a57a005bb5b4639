import { expect, test } from "bun:test";
import { parseFloat64, parseText } from "./text_parser.ts";

test("parseText groups a histogram's lines into one series per label set", () => {
  const [f] = parseText(`# TYPE h histogram
h_bucket{a="1",le="1"} 1
h_bucket{le="+Inf",a="1"} 2
h_sum{a="1"} 3
h_count{a="1"} 2
h_count{a="2"} 0
`);
  expect(f.name).toBe("h");
  expect(f.type).toBe("histogram");
  expect(f.metrics.map((m) => [m.labels, m.samples.length])).toEqual([[[["a", "1"]], 4], [[["a", "2"]], 1]]);
});

test("parseText makes _sum and _count families of their own without a summary or histogram TYPE", () => {
  const fams = parseText("# TYPE s gauge\ns 1\ns_sum 1\ns_count 1\n");
  expect(fams.map((f) => [f.name, f.type])).toEqual([["s", "gauge"], ["s_sum", "untyped"], ["s_count", "untyped"]]);
});

test("parseText keeps one series per counter, gauge or untyped line, duplicates too", () => {
  const [f] = parseText('g{a="1"} 1\ng{a="1"} 2\n');
  expect(f.metrics.map((m) => m.samples[0].value)).toEqual([1, 2]);
});

test("parseText resolves escapes in help and label values", () => {
  const [f] = parseText('# HELP m a \\\\ b\\nc\nm{v="q\\"\\\\\\n"} 1\n');
  expect(f.help).toBe("a \\ b\nc");
  expect(f.metrics[0].labels).toEqual([["v", 'q"\\\n']]);
});

test("parseText drops families without samples, and leaves empty help unset", () => {
  const fams = parseText("# HELP a \n# TYPE a gauge\na 1\n# HELP b B.\n# TYPE b gauge\n");
  expect(fams.map((f) => [f.name, f.help])).toEqual([["a", undefined]]);
});

test("parseText reads timestamps and special values", () => {
  const [f] = parseText("m +Inf 123\nm -inf\nm NaN\nm 1e3\n");
  expect(f.metrics.map((m) => [m.samples[0].value, m.samples[0].timestampMs])).toEqual([
    [Infinity, 123],
    [-Infinity, undefined],
    [NaN, undefined],
    [1000, undefined],
  ]);
});

test("parseText in lenient mode accepts trailing blanks and a last line without newline", () => {
  const text = '  # HELP m x\n  m 1  \n  m{a="b"} 2';
  expect(() => parseText(text)).toThrow("text format parsing error in line 2: expected integer as timestamp");
  expect(parseText(text, { lenient: true })[0].metrics.length).toBe(2);
});

// Each message as `promtool check metrics` (Go's expfmt) gives it for the same input.
const errors: [string, string][] = [
  ['m{a="1"', 'line 1: unexpected end of label value "1"'],
  ["1m 1", "line 1: invalid metric name"],
  ['m{1="x"} 1', 'line 1: invalid label name for metric "m"'],
  ['m{a "x"} 1', "line 1: expected '=' after label name, found '\"'"],
  ["m{a=x} 1", "line 1: expected '\"' at start of label value, found 'x'"],
  ['m{a="x" b="y"} 1', 'line 1: unexpected end of label value "x"'],
  ["m 1 2 3", 'line 1: spurious string after timestamp: " 3"'],
  ["m 1 1.5", 'line 1: expected integer as timestamp, got "1.5"'],
  ["# HELP m\\x", "line 1: invalid metric name in comment"],
  ['# TYPE s summary\ns{quantile="x"} 1', "line 2: expected float as value for 'quantile' label, got \"x\""],
  ["# HELP m a \\t", "line 1: invalid escape sequence '\\t'"],
];
for (const [input, want] of errors) {
  test(`parseText refuses ${JSON.stringify(input)}`, () => {
    expect(() => parseText(input + "\n")).toThrow(`text format parsing error in ${want}`);
  });
}

test("parseFloat64 accepts what Go's expfmt accepts", () => {
  expect(["1", "-1.5", ".5", "5.", "1e-3", "+Inf", "inf", "-Infinity"].map(parseFloat64)).toEqual([
    1,
    -1.5,
    0.5,
    5,
    0.001,
    Infinity,
    Infinity,
    -Infinity,
  ]);
  expect(["", "0x10", "1_000", "one", "1e", "+NaN"].map(parseFloat64)).toEqual([
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
  ]);
});
