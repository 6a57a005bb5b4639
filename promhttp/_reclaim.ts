// Handing the memory of large scrapes back to the operating system on V8 (Deno).
//
// A large scrape fills V8's heap with garbage (the collectors' metrics, label strings,
// the gathered families). V8 collects it but keeps the emptied pages committed, in its
// page pool and in spaces it does not shrink, until a collection asked to reduce memory;
// V8 starts one itself only on its memory reducer's schedule (not while the process
// sleeps) or under memory pressure, and a plain `gc()` does not. Measured on Deno 2.9.6
// (RELIABILITY.md, "What the runtimes do not let us fix"): after five 200k-series
// scrapes RSS stayed ~55 MiB above its baseline, in V8's 256 KiB pages, with the JS heap
// back at its level; one memory-reducing collection returned them. So once large
// scrapes stop, and after the memory kept for the next one (prometheus/reuse.ts) has
// been let go, one such collection runs here. Bun (JavaScriptCore) returns its pages
// without it.
//
// Giving the pages back costs: the collection (20–100 ms on a loaded 2-core machine, the
// event loop held), and the next large scrape faults them in again (~+200 ms CPU on the
// next 100k-series scrape, measured with a collection after each scrape 4.5 s apart). So
// the wait adapts: scrapes that come regularly (Prometheus every 15 s) keep their
// memory, and it goes back once they stop or after a burst (the non-reading clients of
// issue 12).
import { spareTtlMs } from "../prometheus/reuse.ts";

type GC = (o: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

/** The shortest wait after the last large body ended: once the kept memory has expired. */
export const reclaimMinMs: number = spareTtlMs + 250;
/** The longest: memory is kept at most this long after large scrapes stop. */
const reclaimMaxMs = 120_000;
/**
 * The wait is this many times the longer of the last two gaps between large encodings:
 * the time the next scrape is expected in, for a scraper (or the two of an HA pair) that
 * comes regularly; after a burst, the gaps are short and the memory goes back soon.
 */
const gapFactor = 1.5;
const gapsKept = 2;

const v8Runtime = !(globalThis as { Bun?: unknown }).Bun && typeof (globalThis as { Deno?: unknown }).Deno === "object";

/**
 * V8's collector as a function: `globalThis.gc` when the process was started with
 * `--v8-flags=--expose-gc`; else the one V8 installs in a new context while that flag is
 * set, set for that moment only, so that no other context gets a `gc`. Undefined if
 * neither works.
 */
async function loadGC(): Promise<GC | undefined> {
  const own = (globalThis as { gc?: GC }).gc;
  if (typeof own === "function") return own;
  try {
    const [{ default: v8 }, { default: vm }] = await Promise.all([import("node:v8"), import("node:vm")]);
    v8.setFlagsFromString("--expose-gc");
    try {
      const gc = vm.runInNewContext("gc");
      return typeof gc === "function" ? gc : undefined;
    } finally {
      v8.setFlagsFromString("--no-expose-gc");
    }
  } catch {
    return undefined;
  }
}

let gc: Promise<GC | undefined> | undefined;
/** Large encodings still served from. */
let live = 0;
/** When the latest large encodings were made (performance.now()), oldest first. */
const started: number[] = [];
/** When the last large encoding ended; the collection is due `wait()` after it. */
let endedAt = 0;
let armed = false;

/** How long after the last large body the collection waits: see the module's comment. */
function wait(): number {
  let gap = 0;
  for (let i = 1; i < started.length; i++) gap = Math.max(gap, started[i] - started[i - 1]);
  return Math.min(reclaimMaxMs, Math.max(reclaimMinMs, gapFactor * gap));
}

function arm(ms: number): void {
  armed = true;
  const t = setTimeout(fire, ms);
  (t as { unref?: () => void }).unref?.(); // Bun's and Deno's timers have it
}

function fire(): void {
  armed = false;
  if (live > 0) return; // the last of them to end arms it again
  const left = endedAt + wait() - performance.now();
  if (left > 0) return arm(left);
  (gc ??= loadGC()).then((f) => f?.({ type: "major", execution: "sync", flavor: "last-resort" }));
}

/** Says a large encoding was made; {@linkcode largeEnded} must follow when it is no longer served from. */
export function largeStarted(): void {
  if (!v8Runtime) return;
  live++;
  started.push(performance.now());
  if (started.length > gapsKept + 1) started.shift();
}

/**
 * Says a large encoding is no longer served from. When no other is, a memory-reducing
 * collection follows {@linkcode reclaimMinMs} or more later (see the module's comment),
 * unless another large encoding comes first.
 */
export function largeEnded(): void {
  if (!v8Runtime) return;
  live--;
  endedAt = performance.now();
  if (!armed && live === 0) arm(wait());
}
