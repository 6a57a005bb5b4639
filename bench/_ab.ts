// What the interleaved comparisons (bench/ab.ts for the exporter, bench/ab_series.ts for
// series_server builds) share: their command line, the figures they gather per build
// and round, fresh copies of the binaries, the watchdog and the table.
import process from "node:process";
import { chmodSync, copyFileSync, existsSync, rmSync, statSync } from "node:fs";
import { median } from "./_load.ts";
import { scratch, stopAll } from "./_proc.ts";

/** `--name=value` options and `NAME=CMD` builds from the command line of `script`. */
export function parseArgs(script: string): { opts: Map<string, string>; builds: { name: string; cmd: string[] }[] } {
  const opts = new Map<string, string>();
  const builds: { name: string; cmd: string[] }[] = [];
  for (const a of process.argv.slice(2)) {
    const o = a.match(/^--([a-z-]+)=(.*)$/);
    if (o) opts.set(o[1], o[2]);
    else {
      const eq = a.indexOf("=");
      if (eq < 1) throw new Error(`${script}: ${JSON.stringify(a)} is not NAME=CMD`);
      builds.push({ name: a.slice(0, eq), cmd: a.slice(eq + 1).split(" ").filter(Boolean) });
    }
  }
  if (builds.length === 0) throw new Error(`usage: bun ${script} [--rounds=N] … NAME=CMD …`);
  return { opts, builds };
}

/** Figures per build and per measure, one value per round. */
export class Results {
  readonly #byBuild = new Map<string, Map<string, number[]>>();

  record(build: string, what: string, x: number): void {
    let m = this.#byBuild.get(build);
    if (!m) this.#byBuild.set(build, m = new Map());
    let xs = m.get(what);
    if (!xs) m.set(what, xs = []);
    xs.push(x);
  }

  /** Prints the median (min–max) of every measure, a column per build, then `note`. */
  print(note: string): void {
    const fmt = (x: number) =>
      Math.abs(x) >= 100 || x === 0 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(1) : x.toFixed(3);
    const builds = [...this.#byBuild.values()];
    const measures = [...new Set(builds.flatMap((m) => [...m.keys()]))];
    console.log(`| measure | ${[...this.#byBuild.keys()].join(" | ")} |`);
    console.log(`| --- |${" ---: |".repeat(builds.length)}`);
    for (const what of measures) {
      const cells = builds.map((m) => {
        const xs = m.get(what);
        return xs ? `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : "";
      });
      console.log(`| ${what} | ${cells.join(" | ")} |`);
    }
    console.log(`\n${note}`);
  }
}

const copies = new Set<string>();

/**
 * A fresh copy of an executable, made at the start of each round and run instead of it.
 * A page fault maps the cached pages around the faulting one too, as many as the
 * page-cache folio they sit in allows, so a binary's file-backed RSS depends on how
 * its pages came into the cache: measured, the same binary showed 37.0 MiB idle when
 * it had sat on disk for an hour of other builds and 42.2 MiB as a fresh copy. `make
 * bench` builds every binary just before it runs, so all are fresh copies there.
 */
export function freshCopy(path: string, name: string): string {
  if (!existsSync(path) || !statSync(path).isFile()) return path; // a command such as deno: as it is
  const copy = `${scratch}/ab-${name}`;
  copies.add(copy);
  copyFileSync(path, copy);
  chmodSync(copy, 0o755);
  return copy;
}

/**
 * Runs `body`, stopping every process the harness started (and exiting) if it has not
 * finished in 20 minutes; then stops what still runs and removes the fresh copies.
 */
export async function withWatchdog(script: string, body: () => Promise<void>): Promise<void> {
  const watchdog = setTimeout(async () => {
    console.error(`${script}: 20 minutes passed; stopping`);
    await stopAll();
    process.exit(1);
  }, 20 * 60_000);
  try {
    await body();
  } finally {
    clearTimeout(watchdog);
    await stopAll();
    for (const c of copies) rmSync(c, { force: true });
  }
}
