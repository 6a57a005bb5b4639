// Turning gathered families into a response body without stalling the event loop.
import { encodeBytes, encodeChunks, type Format } from "../prometheus/expfmt.ts";
import type { MetricFamily } from "../prometheus/registry.ts";

/**
 * Expositions with more series than this are encoded in time slices, with event-loop
 * turns between them, and compressed off the main thread: a health check or another
 * request then waits at most one slice instead of the whole encoding.
 */
export const largeExposition = 10_000;

/** Work done between two event-loop turns while encoding a large exposition. */
const sliceMs = 8;

/** Lets the event loop run pending I/O and timers (setImmediate: ~10 µs, setTimeout(0): ~1 ms). */
export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => void };
  return new Promise((resolve) => (g.setImmediate ? g.setImmediate(resolve) : setTimeout(resolve, 0)));
}

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

/** Compresses on the runtime's thread pool, so the event loop keeps running. */
async function gzipLarge(bytes: Uint8Array): Promise<Uint8Array> {
  const z = await loadZlib();
  return await new Promise<Uint8Array>((resolve, reject) => {
    z.gzip(bytes, gzipOptions, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

/**
 * The body for `families` in `format`, gzipped when asked. Small expositions are
 * encoded in one go; large ones (see {@linkcode largeExposition}) in slices of about
 * 8 ms with the event loop let through between them, then compressed off the main
 * thread. Identity bodies of large expositions are a Blob of the encoded chunks, so
 * they are never copied into one buffer.
 */
export async function encodeBody(
  families: readonly MetricFamily[],
  format: Format,
  gzip: boolean,
): Promise<Uint8Array | Blob> {
  if (seriesCount(families) <= largeExposition) {
    const bytes = encodeBytes(families, format);
    return gzip ? await gzipSmall(bytes) : bytes;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  let sliceStart = performance.now();
  for (const chunk of encodeChunks(families, format)) {
    chunks.push(chunk);
    size += chunk.length;
    if (performance.now() - sliceStart > sliceMs) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
  }
  if (!gzip) return new Blob(chunks as BlobPart[]);
  const whole = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    whole.set(c, at);
    at += c.length;
  }
  return await gzipLarge(whole);
}
