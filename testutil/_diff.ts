// A line diff in unified format, for the failure messages of collectAndCompare.

type Op = { kind: " " | "-" | "+"; line: string };

/**
 * The shortest edit script from `a` to `b` (Myers' O(ND) algorithm), as a list of
 * kept, removed and added lines. Expositions run to thousands of lines, so the
 * quadratic table of the textbook LCS is not an option.
 */
function editScript(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length, m = b.length, max = n + m, offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1])
        ? v[offset + k + 1]
        : v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) x++, y++;
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // Walk the trace back from (n, m), one edit per round.
  const ops: Op[] = [];
  let x = n, y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d];
    const k = x - y;
    const prevK = k === -d || (k !== d && vd[offset + k - 1] < vd[offset + k + 1]) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : vd[offset + prevK];
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) ops.push({ kind: " ", line: a[--x] }), y--;
    if (d > 0) {
      if (x === prevX) ops.push({ kind: "+", line: b[--y] });
      else ops.push({ kind: "-", line: a[--x] });
    }
  }
  while (x > 0 && y > 0) ops.push({ kind: " ", line: a[--x] }), y--;
  return ops.reverse();
}

/**
 * Returns a unified diff of two texts, line by line, with `context` unchanged lines
 * around each change and `@@ -l,n +l,n @@` hunk headers; "" when they are equal.
 *
 * @example
 * ```ts
 * unifiedDiff("a\nb\n", "a\nc\n"); // "@@ -1,2 +1,2 @@\n a\n-b\n+c\n"
 * ```
 */
export function unifiedDiff(want: string, got: string, context = 3): string {
  if (want === got) return "";
  const a = want.split("\n"), b = got.split("\n");
  if (a[a.length - 1] === "" && b[b.length - 1] === "") a.pop(), b.pop();
  const ops = editScript(a, b);
  const changed = ops.map((o, i) => (o.kind !== " " ? i : -1)).filter((i) => i >= 0);
  let out = "";
  let i = 0;
  while (i < changed.length) {
    // A hunk spans changes less than 2*context+1 lines apart.
    let j = i;
    while (j + 1 < changed.length && changed[j + 1] - changed[j] <= 2 * context) j++;
    const from = Math.max(0, changed[i] - context), to = Math.min(ops.length, changed[j] + context + 1);
    let aStart = 1, bStart = 1;
    for (let k = 0; k < from; k++) {
      if (ops[k].kind !== "+") aStart++;
      if (ops[k].kind !== "-") bStart++;
    }
    const hunk = ops.slice(from, to);
    const aLen = hunk.filter((o) => o.kind !== "+").length, bLen = hunk.filter((o) => o.kind !== "-").length;
    out += `@@ -${aLen ? aStart : aStart - 1},${aLen} +${bLen ? bStart : bStart - 1},${bLen} @@\n`;
    for (const o of hunk) out += o.kind + o.line + "\n";
    i = j + 1;
  }
  return out;
}
