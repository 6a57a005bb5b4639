// The lint corpus, testdata/lint/*.prom, for the tests. Each input says what the
// linter must report about it in comments of its own, which both parsers skip:
//   # want: <metric> <text>       one line per expected finding
//   # want-error: <message>       the input does not parse; Go's error message
// The want lines were written from `promtool check metrics` output; where this linter
// deliberately differs, promtool_test.ts lists the difference.
import { readdirSync, readFileSync } from "node:fs";

/** One input of the corpus with its expected result. */
export interface LintCase {
  /** File name without `.prom`, e.g. `camel_label`. */
  readonly name: string;
  readonly text: string;
  /** Expected findings as `metric text` lines, in promlint's order. */
  readonly want: string[];
  /** The expected parse error message, if the input does not parse. */
  readonly wantError: string | undefined;
}

const dir = new URL("./testdata/lint/", import.meta.url);

/**
 * Reads every `.prom` file of the corpus, sorted by name.
 *
 * @example
 * ```ts
 * for (const c of lintCorpus()) test(c.name, () => expect(show(lint(c.text))).toEqual(c.want));
 * ```
 */
export function lintCorpus(): LintCase[] {
  return readdirSync(dir).filter((f) => f.endsWith(".prom")).sort().map((file) => {
    const text = readFileSync(new URL(file, dir), "utf8");
    const lines = text.split("\n");
    const want = lines.filter((l) => l.startsWith("# want: ")).map((l) => l.slice("# want: ".length));
    const err = lines.find((l) => l.startsWith("# want-error: "));
    return { name: file.slice(0, -".prom".length), text, want, wantError: err?.slice("# want-error: ".length) };
  });
}
