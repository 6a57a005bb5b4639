import { expect, test } from "bun:test";
import { unifiedDiff } from "./_diff.ts";

const lines = (n: number, f = (i: number) => `line ${i}`) =>
  Array.from({ length: n }, (_, i) => f(i + 1)).join("\n") + "\n";

test("unifiedDiff of equal texts is empty", () => {
  expect(unifiedDiff("a\nb\n", "a\nb\n")).toBe("");
});

const cases: { name: string; want: string; got: string; diff: string }[] = [
  {
    name: "one line changed, with context",
    want: "a\nb\nc\n",
    got: "a\nB\nc\n",
    diff: "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n",
  },
  {
    name: "a line added at the start",
    want: "b\nc\n",
    got: "a\nb\nc\n",
    diff: "@@ -1,2 +1,3 @@\n+a\n b\n c\n",
  },
  {
    name: "a line removed at the end",
    want: "a\nb\nc\n",
    got: "a\nb\n",
    diff: "@@ -1,3 +1,2 @@\n a\n b\n-c\n",
  },
  {
    name: "everything replaced",
    want: "a\n",
    got: "b\n",
    diff: "@@ -1,1 +1,1 @@\n-a\n+b\n",
  },
  {
    name: "from nothing",
    want: "",
    got: "a\n",
    diff: "@@ -0,0 +1,1 @@\n+a\n",
  },
  {
    name: "changes far apart make two hunks",
    want: lines(20),
    got: lines(20, (i) => (i === 2 || i === 18 ? `LINE ${i}` : `line ${i}`)),
    diff: "@@ -1,5 +1,5 @@\n line 1\n-line 2\n+LINE 2\n line 3\n line 4\n line 5\n" +
      "@@ -15,6 +15,6 @@\n line 15\n line 16\n line 17\n-line 18\n+LINE 18\n line 19\n line 20\n",
  },
];

for (const c of cases) {
  test(`unifiedDiff: ${c.name}`, () => {
    expect(unifiedDiff(c.want, c.got)).toBe(c.diff);
  });
}

test("unifiedDiff finds the one change in a long exposition", () => {
  // 20k lines: a quadratic diff would need 400M cells here.
  const want = lines(20_000);
  const got = want.replace("line 12345\n", "line 12345 changed\n");
  expect(unifiedDiff(want, got)).toBe(
    "@@ -12342,7 +12342,7 @@\n line 12342\n line 12343\n line 12344\n-line 12345\n+line 12345 changed\n line 12346\n line 12347\n line 12348\n",
  );
});
