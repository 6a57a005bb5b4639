import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { updatedReadme } from "./readme_flags.ts";

test("README's flag table is generated from the flags the exporter parses", () => {
  const readme = readFileSync(new URL("README.md", import.meta.url), "utf8");
  // On failure: run `make readme` to regenerate it.
  expect(updatedReadme(readme)).toBe(readme);
  expect(readme).toContain("| `--upstream.url` | required | `UPSTREAM_EXPORTER_UPSTREAM_URL` |");
});
