import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { updatedReadme } from "./readme_flags.ts";

test("README's flag table is generated from the flag definitions", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  // On failure: run `bun run scripts/readme_flags.ts` to regenerate it.
  expect(updatedReadme(readme)).toBe(readme);
});
