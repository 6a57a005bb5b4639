// Turning gathered families into a response body without stalling the event loop.
import { encodeBytes, encodeChunks, type Format } from "../prometheus/expfmt.ts";
import type { MetricFamily } from "../prometheus/registry.ts";
import { yieldToEventLoop } from "../prometheus/_yield.ts";
import { concatBytes } from "../prometheus/_bytes.ts";

/**
 * Expositions with more series than this are encoded in time slices, with event-loop
 * turns between them, and compressed off the main thread: a health check or another
 * request then waits at most one slice instead of the whole encoding.
 */
export const largeExposition = 10_000;

/** Work done between two event-loop turns while encoding a large exposition. */
const sliceMs = 8;


function seriesCount(families: readonly MetricFamily[]): number {
  let n = 0;
  for (const f of families) n += f.metrics.length;
  return n;
}

/** Gzip at level 1: most of the size gain at a fraction of the default level's cost. */
const gzipOptions = { level: 1 } as const;

type BunGzip = { gzipSync(data: Uint8Array, o: { level: 1 }): Uint8Array };
const bun = (globalThis as { Bun?: BunGzip }).Bun;

/**
 * node:zlib, loaded on the first request that needs it: importing it at start-up
 * costs a compiled Bun binary ~16 ms and ~12 MiB of RSS, and most scrapes on Bun never
 * need it.
 */
let zlib: Promise<typeof import("node:zlib")> | undefined;
const loadZlib = () => zlib ??= import("node:zlib");

async function gzipSmall(bytes: Uint8Array): Promise<Uint8Array> {
  if (bun) return bun.gzipSync(bytes, gzipOptions);
  return (await loadZlib()).gzipSync(bytes, gzipOptions);
}

/**
 * Compresses a large body. Bun's native gzip takes ~10 ms for 5 MB at level 1, faster
 * than handing the work to zlib's thread pool; elsewhere zlib runs on its pool, so the
 * event loop keeps running.
 */
async function gzipLarge(bytes: Uint8Array): Promise<Uint8Array> {
  if (bun) return bun.gzipSync(bytes, gzipOptions);
  const z = await loadZlib();
  return await new Promise<Uint8Array>((resolve, reject) => {
    z.gzip(bytes, gzipOptions, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

/**
 * The body for `families` in `format`, gzipped when asked. Small expositions are
 * encoded in one go; large ones (see {@linkcode largeExposition}) in slices of about
 * 8 ms with the event loop let through between them, then compressed off the main
 * thread.
 */
export async function encodeBody(
  families: readonly MetricFamily[],
  format: Format,
  gzip: boolean,
): Promise<Uint8Array> {
  if (seriesCount(families) <= largeExposition) {
    const bytes = encodeBytes(families, format);
    return gzip ? await gzipSmall(bytes) : bytes;
  }
  const chunks: Uint8Array[] = [];
  let sliceStart = performance.now();
  for (const chunk of encodeChunks(families, format)) {
    chunks.push(chunk);
    if (performance.now() - sliceStart > sliceMs) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
  }
  // One buffer: a memcpy of the chunks costs a few milliseconds, where a Blob of
  // ~200 parts cost Bun ~70 ms, all of it blocking the event loop.
  const whole = concatBytes(chunks);
  return gzip ? await gzipLarge(whole) : whole;
}
