// The kit writes numbers as Go does: a corpus of ~12,000 float64 values (edge cases
// and random doubles from a fixed seed, bench/go/corpus/main.go) exposed through
// Debian's client_golang and prometheus/common by Go itself, and through the kit's
// registry and encoders here, compared byte for byte in the text format and in
// OpenMetrics, and the protobuf exposition byte for byte. Gauge values, histogram sums and `le` bounds are floats (Go's
// writeFloat / writeOpenMetricsFloat); bucket counts and `_count` are float64 in the
// text format and integers in OpenMetrics.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { missingTool } from "../testing/process.ts";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { Collector } from "./collector.ts";
import { newDesc } from "./desc.ts";
import { encode, encodeBytes } from "./expfmt.ts";
import { Registry } from "./registry.ts";
import { GaugeValue, type Metric, mustNewConstHistogram, mustNewConstMetric } from "./value.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = join(root, ".tmp/go-corpus");
const gocode = "/usr/share/gocode";

/** Builds and runs the Go corpus writer; undefined when Go or client_golang is missing. */
function goCorpus(): string | undefined {
  if (spawnSync("go", ["version"]).error !== undefined) return undefined;
  try {
    readFileSync(join(gocode, "src/github.com/prometheus/client_golang/prometheus/registry.go"));
  } catch {
    return undefined;
  }
  mkdirSync(out, { recursive: true });
  const env = { ...process.env, GOPATH: gocode, GO111MODULE: "off", GOFLAGS: "", GOCACHE: join(root, ".tmp/gocache") };
  const build = spawnSync("go", ["build", "-o", join(out, "go-corpus"), "."], {
    cwd: join(root, "bench/go/corpus"),
    env,
    encoding: "utf8",
  });
  if (build.status !== 0) throw new Error(`go build bench/go/corpus: ${build.stderr}`);
  const run = spawnSync(join(out, "go-corpus"), ["-out", out], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`go-corpus: ${run.stderr}`);
  return out;
}

/** A float64 from its IEEE-754 bits in hex. */
function fromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt("0x" + hex));
  return view.getFloat64(0);
}

/** The collector bench/go/corpus/main.go registers, over the same values. */
function corpusCollector(bits: string[]): Collector {
  const gauge = newDesc("corpus_value", "Each value of the corpus.", ["bits"]);
  const histogram = newDesc("corpus_histogram", "Buckets at corpus values.", ["bits"]);
  const values = bits.map(fromBits);
  return {
    name: "corpus",
    describe(ch) {
      ch(gauge);
      ch(histogram);
    },
    collect(ch: (m: Metric) => void) {
      values.forEach((v, i) => ch(mustNewConstMetric(gauge, GaugeValue, v, bits[i])));
      for (let i = 0; i + 10 <= values.length; i += 10) {
        // As Go's map[float64]uint64: 0 and -0 are one key, and the later one's sign
        // stays (Go updates float keys on assignment). A JS Map would make -0 +0, so
        // the buckets go in as an object keyed by each bound's round-trip string.
        const finite = values.slice(i, i + 10).filter(Number.isFinite);
        const zero = finite.findLast((v) => v === 0);
        // (A Set would make -0 +0 too.)
        const bounds = finite.map((v) => (v === 0 ? zero! : v)).filter((v, k, all) => all.indexOf(v) === k).sort((
          a,
          b,
        ) => a - b);
        const buckets: Record<string, number> = {};
        bounds.forEach((b, rank) => buckets[Object.is(b, -0) ? "-0" : String(b)] = 1000003 * (rank + 1));
        ch(mustNewConstHistogram(histogram, 1000003 * (bounds.length + 1), values[i], buckets, bits[i]));
      }
    },
  };
}

/** The first line where two texts differ, for a readable failure. */
function firstDifference(got: string, want: string): string {
  const g = got.split("\n"), w = want.split("\n");
  for (let i = 0; i < Math.max(g.length, w.length); i++) {
    if (g[i] !== w[i]) return `line ${i + 1}: got ${JSON.stringify(g[i])}, want ${JSON.stringify(w[i])}`;
  }
  return "identical";
}

describe("numbers as Go writes them (bench/go/corpus, Debian's client_golang and prometheus/common)", () => {
  const name = "the kit's text, OpenMetrics and protobuf bytes equal Go's for the whole corpus";
  if (spawnSync("go", ["version"]).error !== undefined) {
    missingTool(test, name, "go is not installed (make system-deps installs golang-go)");
    return;
  }
  test(name, async () => {
    const dir = goCorpus();
    if (!dir) {
      throw new Error(
        `client_golang is not under ${gocode} (make system-deps installs golang-github-prometheus-client-golang-dev)`,
      );
    }
    const bits = readFileSync(join(dir, "values.txt"), "utf8").trim().split("\n");
    expect(bits.length).toBeGreaterThanOrEqual(10_000);
    const r = new Registry();
    r.mustRegister(corpusCollector(bits));
    const gathered = await r.gather();
    expect(gathered.errors.map((e) => e.message)).toEqual([]);
    for (const [format, file] of [["text", "text.txt"], ["openmetrics-1.0.0", "openmetrics.txt"]] as const) {
      const want = readFileSync(join(dir, file), "utf8");
      const got = encode(gathered.families, format);
      if (got !== want) {
        throw new Error(`${format}: the kit's bytes differ from Go's ${file}: ${firstDifference(got, want)}`);
      }
    }
    // The protobuf exposition: the same messages, field for field and byte for byte,
    // as Go's protobuf marshals them (expfmt.FmtProtoDelim).
    const want = new Uint8Array(readFileSync(join(dir, "protobuf.bin")));
    const got = encodeBytes(gathered.families, "protobuf");
    const at = got.findIndex((b, i) => b !== want[i]);
    if (got.length !== want.length || at >= 0) {
      throw new Error(
        `protobuf: ${got.length} bytes, Go's protobuf.bin ${want.length}; first difference at byte ${at}`,
      );
    }
  }, 120_000);
});
