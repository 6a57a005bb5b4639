// What the encoders cost the first time in a fresh process, against their second run:
// the share of the first scrape that is code run cold (interpreted, not yet compiled),
// tables and templates made on first use. Each run starts a fresh process of this
// script (`--child`) that gathers the default registry (the exporter's default
// collectors) and times encodeBytes three times in each format asked for.
//   bun bench/profile_first_encode.ts [runs=9] [formats=text,protobuf] [warm]
// With `warm`, each process first encodes a one-gauge family of its own in those formats,
// so that what remains of the first run is what is made per family, not code run cold.
//   deno run -A bench/profile_first_encode.ts 9
import { spawnSync } from "node:child_process";
import process from "node:process";

const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };

if (process.argv[2] === "--child") {
  const { defaultRegistry, encodeBytes, GaugeValue, mustNewConstMetric, newDesc, Registry } = await import(
    "../prometheus/mod.ts"
  );
  const formats = process.argv[3].split(",") as ("text" | "protobuf")[];
  const out: Record<string, number[]> = {};
  const gathered = await defaultRegistry.gather();
  if (process.argv[4] === "warm") {
    // The encoders' code run once before, on a family of its own: what remains of the
    // first run is what is made per family (heads, templates) and the paths not taken.
    const other = new Registry(), d = newDesc("warm_up", "Warm-up.", ["a"]);
    other.mustRegister({
      name: "warm",
      describe: (ch) => ch(d),
      collect: (ch) => ch(mustNewConstMetric(d, GaugeValue, 1.5, "x")),
    });
    const got = await other.gather();
    for (const f of formats) encodeBytes(got.families, f);
  }
  for (const f of formats) {
    out[f] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      encodeBytes(gathered.families, f);
      out[f].push(performance.now() - t0);
    }
  }
  console.log(JSON.stringify(out));
  process.exit(0);
}

const runs = Number(process.argv[2] ?? 9);
const formats = process.argv[3] ?? "text,protobuf";
const warm = process.argv[4] === "warm" ? ["warm"] : [];
const self = new URL(import.meta.url).pathname;
const cmd = g.Bun ? [process.execPath, self] : [process.execPath, "run", "-A", self];
const all: Record<string, number[][]> = {};
for (let r = 0; r < runs; r++) {
  const child = spawnSync(cmd[0], [...cmd.slice(1), "--child", formats, ...warm], {
    encoding: "utf8",
    timeout: 30_000,
  });
  if (child.status !== 0) throw new Error(`child failed: ${child.stderr}`);
  const got = JSON.parse(child.stdout.trim().split("\n").at(-1)!) as Record<string, number[]>;
  for (const [f, ms] of Object.entries(got)) (all[f] ??= []).push(ms);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runtime = g.Bun ? `bun ${g.Bun.version}` : `deno ${g.Deno!.version.deno}`;
console.log(
  `profile_first_encode: ${runtime}, ${runs} fresh processes${
    warm.length ? ", code warmed first" : ""
  }; ms, median (lowest–highest)`,
);
console.log("| format (first in process: " + formats.split(",")[0] + ") | 1st | 2nd | 3rd |");
console.log("| --- | ---: | ---: | ---: |");
for (const [f, rows] of Object.entries(all)) {
  const cells = [0, 1, 2].map((k) => {
    const xs = rows.map((r) => r[k]);
    return `${median(xs).toFixed(3)} (${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)})`;
  });
  console.log(`| ${f} | ${cells.join(" | ")} |`);
}
