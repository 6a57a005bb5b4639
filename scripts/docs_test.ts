// The user-facing documents say what the code does: the metric names they quote are
// the ones the handler serves, the sample output's identity is what `make run`
// reports, and every file they point at is in the repository (a clone has nothing
// beside it).
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { newFooCollector } from "../collector.ts";
import { Registry } from "../prometheus/mod.ts";
import { handlerFor } from "../promhttp/mod.ts";
import { newBuildInfoCollector, program } from "../web/mod.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DOCS = ["README.md", "deploy/README.md"];
const read = (doc: string) => readFileSync(join(ROOT, doc), "utf8");

/** The family names the tutorial exporter's handler serves, with its default options. */
async function servedFamilies(): Promise<Set<string>> {
  const registry = new Registry();
  registry.mustRegister(newFooCollector());
  registry.mustRegister(newBuildInfoCollector("ts_exporter"));
  const res = await handlerFor(registry)(
    new Request("http://127.0.0.1/metrics"),
  );
  const body = await res.text();
  return new Set([...body.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
}

describe("README.md and deploy/README.md", () => {
  test("name the per-collector families as the handler serves them", async () => {
    const served = await servedFamilies();
    const want = [...served].filter((n) => n.includes("_scrape_collector_"));
    expect(want.length).toBeGreaterThan(0);
    const prefixes = new Set(
      want.map((n) => n.slice(0, n.indexOf("_scrape_collector_"))),
    );
    for (const doc of DOCS) {
      // Every mention, `*` patterns included: foo_scrape_collector_success, …_*.
      for (
        const [name] of read(doc).matchAll(
          /\b[a-z_]*_?scrape_collector_[a-z_*]*/g,
        )
      ) {
        const prefix = name.slice(0, name.indexOf("scrape_collector_")).replace(
          /_$/,
          "",
        );
        if (!prefixes.has(prefix)) {
          throw new Error(
            `${doc}: ${name}: got prefix ${JSON.stringify(prefix)}, want one of ${[...prefixes].join(", ")}`,
          );
        }
        if (!name.includes("*") && !served.has(name)) {
          throw new Error(
            `${doc}: ${name} is not served; served: ${want.join(", ")}`,
          );
        }
      }
    }
  });

  test("the sample build_info line is what `make run` serves", () => {
    const line = read("README.md").match(
      /^\s+ts_exporter_build_info\{(.*)\} 1$/m,
    );
    if (!line) {
      throw new Error("README.md: no sample ts_exporter_build_info line");
    }
    const labels = Object.fromEntries(
      [...line[1].matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    // Run from source (make run: bun run main.ts), as under this test, nothing
    // stamps a revision; `make build` does.
    expect({ version: labels.version, revision: labels.revision }).toEqual({
      version: program.version,
      revision: program.revision,
    });
    const pkg = JSON.parse(read("package.json"));
    expect([labels.runtime, labels.runtime_version]).toEqual([
      "bun",
      pkg.devDependencies.bun,
    ]);
  });

  test("point at no file outside the repository, and at none missing", () => {
    for (const doc of DOCS) {
      const text = read(doc);
      // [text](target) links, without their #fragment: inside, and there.
      const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1].split("#")[0])
        .filter((t) => t && !/^[a-z]+:/.test(t));
      // Paths quoted in code spans that climb out of the document's directory: inside.
      // (Other relative code spans may be the reader's own files, as ./collector.js.)
      const quoted = [...text.matchAll(/`(\.\.\/[^`\s]*)`/g)].map((m) => m[1]);
      expect(links.length).toBeGreaterThan(0);
      for (const t of [...links, ...quoted]) {
        const inside = relative(ROOT, resolve(ROOT, dirname(doc), t));
        if (inside.startsWith("..")) {
          throw new Error(`${doc}: ${t} is outside the repository`);
        }
      }
      for (const t of links) {
        if (!existsSync(resolve(ROOT, dirname(doc), t))) {
          throw new Error(`${doc}: ${t} does not exist`);
        }
      }
    }
  });
});
