// Times the encoders of two or more checkouts of prometheus/ side by side in one process,
// on the same 100k-series family: the "vs before issue 16" rows of `make bench`, and the
// guide for optimising the encoders.
//   bun bench/profile_encoder.ts [--series N] [--rounds R] [--formats text,openmetrics-1.0.0]
//       [--modes reused,fresh] [--family gauges|classic|native] ROOT...
//   deno run --allow-read=ROOT,… --v8-flags=--expose-gc bench/profile_encoder.ts … ROOT...
// Each ROOT is a directory holding a prometheus/ folder (this checkout is `.`; an older
// one is, for instance, `git archive <commit> prometheus | tar -x -C DIR`), loaded
// through its public API (prometheus/mod.ts). Each builds the Go reference's `-series N`
// family (bench/_series_collector.ts' series: gauges `bench_series{id,zone}` = i × 0.5)
// with its own mustNewConstMetric (or, with --family classic or native, the Go reference's
// `-histograms N [-native]` family: a HistogramVec of N children observed three times
// each, default buckets or native ones of factor 1.1, as bench/series_server.ts'
// --histograms) and gathers it once with its own Registry. A round
// encodes each root's families once, the roots in turn, the order reversed every other
// round, so that a pause of the machine falls on all of them alike; per mode:
// - reused: encodeSliced into a buffer kept from round to round, as the HTTP handler
//   does: the encoder's own work;
// - fresh: encodeBytes into a new buffer, as profile_series.ts' encode stage: plus
//   allocating and zeroing the buffer.
// After warm-up rounds it prints JSON: per format and mode, each root's median and
// lowest ms and its per-round ratio to the first root (median, lowest, highest). For
// text, the roots' outputs must be byte for byte the same (this family is written alike
// by every version), else it fails: the roots would not be doing the same work.
import process from "node:process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

/** What the script uses of a checkout's prometheus/mod.ts, the same in every version. */
interface Api {
  newDesc(name: string, help: string, labels: string[]): unknown;
  mustNewConstMetric(desc: unknown, type: unknown, value: number, ...labels: string[]): unknown;
  GaugeValue: unknown;
  newHistogramVec(opts: object, labels: string[]): {
    withLabelValues(...values: string[]): { observe(v: number): void };
  };
  Registry: new () => {
    mustRegister(c: object): void;
    gather(): Promise<{ families: unknown; errors: Error[] }>;
  };
  encodeBytes(families: unknown, format: string): Uint8Array;
  encodeSliced(families: unknown, format: string, buffer: Uint8Array): Promise<Uint8Array>;
}

const args = process.argv.slice(2);
function option(name: string, fallback: string): string {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
}
const n = Number(option("--series", "100000"));
const rounds = Number(option("--rounds", "15"));
const formats = option("--formats", "text,openmetrics-1.0.0").split(",");
const modes = option("--modes", "reused,fresh").split(",") as Mode[];
const family = option("--family", "gauges");
const warmups = 4;
const roots = args;
if (roots.length === 0 || !(n > 0) || !(rounds > 0) || !["gauges", "classic", "native"].includes(family)) {
  throw new Error("usage: profile_encoder.ts [--series N] [--rounds R] [--formats a,b] ROOT...");
}

/** One root's families, gathered once, and its encoder. */
interface Subject {
  readonly root: string;
  readonly api: Api;
  readonly families: unknown;
}

const ids = Array.from({ length: n }, (_, i) => `item-${i}`);
const zones = Array.from({ length: n }, (_, i) => `zone-${i % 16}`);

async function load(root: string): Promise<Subject> {
  const api = await import(pathToFileURL(resolve(root, "prometheus/mod.ts")).href) as Api;
  const registry = new api.Registry();
  if (family !== "gauges") {
    const vec = api.newHistogramVec({
      name: "bench_histogram",
      help: "Synthetic histograms for scale benchmarks.",
      ...(family === "native" ? { nativeHistogramBucketFactor: 1.1 } : {}),
    }, ["id", "zone"]);
    registry.mustRegister(vec);
    for (let i = 0; i < n; i++) {
      const h = vec.withLabelValues(ids[i], zones[i]);
      for (let k = 0; k < 3; k++) h.observe(((i + k) % 20) / 10);
    }
    const gathered = await registry.gather();
    if (gathered.errors.length) throw gathered.errors[0];
    return { root, api, families: gathered.families };
  }
  const desc = api.newDesc("bench_series", "Synthetic series for scale benchmarks.", ["id", "zone"]);
  registry.mustRegister({
    name: "bench_series",
    describe: (ch: (d: unknown) => void) => ch(desc),
    collect: (ch: (m: unknown) => void) => {
      for (let i = 0; i < n; i++) ch(api.mustNewConstMetric(desc, api.GaugeValue, i * 0.5, ids[i], zones[i]));
    },
  });
  const gathered = await registry.gather();
  if (gathered.errors.length) throw gathered.errors[0];
  return { root, api, families: gathered.families };
}

const subjects: Subject[] = [];
for (const root of roots) subjects.push(await load(root));

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** One encoding of subject `s`: into a fresh buffer, or into `buffers`' (as the handler, which keeps one). */
async function encodeOnce(s: Subject, format: string, mode: Mode, buffers: Map<Subject, Uint8Array>) {
  if (mode === "fresh") return s.api.encodeBytes(s.families, format);
  const out = await s.api.encodeSliced(s.families, format, buffers.get(s) ?? new Uint8Array(0));
  if (out.buffer !== buffers.get(s)?.buffer) buffers.set(s, new Uint8Array(out.buffer as ArrayBuffer));
  return out;
}

type Mode = "reused" | "fresh";
const result: Record<string, unknown> = { series: n, family, rounds, warmups };
// Every case warmed up before any is measured: the first one measured was otherwise
// slower than the others, still compiling (or collecting the gathers' garbage).
const cases = formats.flatMap((format) => modes.map((mode) => [format, mode] as const));
for (const [format, mode] of cases) await measure(format, mode, warmups, 0);
for (const [format, mode] of cases) {
  collectGarbage();
  result[`${format} ${mode}`] = await measure(format, mode, warmups, rounds);
}

/** A full collection where the runtime offers one (Bun; Deno with --v8-flags=--expose-gc), so that none falls in a case. */
function collectGarbage(): void {
  const g = globalThis as { Bun?: { gc(full: boolean): void }; gc?: () => void };
  if (g.Bun) g.Bun.gc(true);
  else g.gc?.();
}

async function measure(format: string, mode: Mode, warmups: number, rounds: number) {
  const ms: number[][] = subjects.map(() => []);
  const bytes: number[] = subjects.map(() => 0);
  const outputs: Uint8Array[] = [];
  const buffers = new Map<Subject, Uint8Array>();
  for (let r = 0; r < warmups + rounds; r++) {
    const order = subjects.map((_, i) => i);
    if (r % 2) order.reverse();
    for (const i of order) {
      const t0 = performance.now();
      const out = await encodeOnce(subjects[i], format, mode, buffers);
      const t = performance.now() - t0;
      if (r >= warmups) ms[i].push(t);
      bytes[i] = out.length;
      if (r === 0) outputs[i] = out.slice();
    }
  }
  if (format === "text") {
    for (let i = 1; i < subjects.length; i++) {
      if (!sameBytes(outputs[0], outputs[i])) {
        throw new Error(`${subjects[i].root} writes the text of ${n} series otherwise than ${subjects[0].root}`);
      }
    }
  }
  return subjects.map((s, i) => {
    const ratios = ms[i].map((t, r) => t / ms[0][r]);
    return {
      root: s.root,
      medianMs: median(ms[i]),
      minMs: Math.min(...ms[i]),
      bytes: bytes[i],
      ratio: { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) },
    };
  });
}
const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
result.runtime = g.Bun ? `bun ${g.Bun.version}` : g.Deno ? `deno ${g.Deno.version.deno}` : `node ${process.version}`;
console.log(JSON.stringify(result));
