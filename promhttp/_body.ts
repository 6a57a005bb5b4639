// Turning gathered families into a response body without stalling the event loop.
import { encodeBytes, encodeSteps, type Format } from "../prometheus/expfmt.ts";
import type { MetricFamily } from "../prometheus/registry.ts";
import { expiring, yieldToEventLoop } from "../prometheus/_yield.ts";
import { ChunkWriter } from "../prometheus/_bytes.ts";
import { familySize } from "../prometheus/_family.ts";

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
  for (const f of families) n += familySize(f);
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

/** A response body, and what to call once a Response has been made of it. */
export interface Body {
  /** The bytes; a large identity body on Bun is a stream, encoded as it is read. */
  readonly bytes: Uint8Array | ReadableStream<Uint8Array>;
  /**
   * Hands the body's buffer back for the next large scrape. Call it once the bytes have
   * been given to `new Response()`, which copies them (the Fetch standard's "extract a
   * body": a BufferSource is taken as "a copy of the bytes held by object"; both
   * runtimes do so, see _body_test.ts). Not calling it is safe, only slower. A stream
   * hands its buffer back itself.
   */
  readonly release: () => void;
}

/**
 * Told when the families are no longer read: at once for a body encoded in full, at
 * the end of a stream (or when the client went away) for a streamed one. `error` is
 * an encoding error that ended a stream.
 */
export type OnEncoded = (error?: unknown) => void;

const noop = () => {};

/**
 * The body for `families` in `format`, gzipped when asked. Small expositions are
 * encoded in one go. Large ones (see {@linkcode largeExposition}) go into a buffer kept
 * from an earlier scrape: on Bun, uncompressed, as a stream encoded piece by piece as
 * the client reads; otherwise in slices of about 8 ms with the event loop let through
 * between them. `done` is called once the families are no longer read.
 */
export async function encodeBody(
  families: readonly MetricFamily[],
  format: Format,
  gzip: boolean,
  done: OnEncoded = noop,
): Promise<Body> {
  if (seriesCount(families) <= largeExposition) {
    let bytes: Uint8Array;
    try {
      bytes = encodeBytes(families, format);
    } catch (e) {
      done(e);
      throw e;
    }
    done();
    return { bytes: gzip ? await gzipSmall(bytes) : bytes, release: noop };
  }
  // Memory that was used before costs nothing to write; fresh memory costs a page
  // fault per 4 KiB, ~10-17 µs each on the benchmark machine (a VM): a new 5 MB buffer
  // a scrape cost more than the encoding at 100k series, and every byte allocated also
  // brings the next garbage collection nearer. So the encoding goes into one buffer,
  // kept from an earlier scrape and sized from the last body of this format.
  const hint = Math.ceil((lastSize.get(format) ?? 0) * 1.05);
  const reused = spare.pop();
  // A buffer far larger than the body (left by an earlier, larger scrape) is let go.
  const fits = reused !== undefined && reused.length >= hint && reused.length <= 4 * hint + (1 << 20);
  const w = new ChunkWriter(Infinity, noop, fits ? reused : new Uint8Array(Math.max(hint, 64 * 1024)));
  const recycle = () => {
    if (spare.length < maxSpare && !spare.includes(w.buf)) spare.push(w.buf);
    spareKept();
  };
  if (bun && !gzip) return { bytes: streamed(w, families, format, recycle, done), release: noop };
  try {
    let sliceStart = performance.now();
    for (const _ of encodeSteps(w, families, format)) {
      if (performance.now() - sliceStart > sliceMs) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
  } catch (e) {
    done(e);
    throw e;
  }
  done();
  const whole = w.written();
  lastSize.set(format, whole.length);
  if (!gzip) return { bytes: whole, release: recycle };
  try {
    return { bytes: await gzipLarge(whole), release: noop };
  } finally {
    recycle(); // gzip has read it
  }
}

/** Bytes a streamed body hands out at a time, about. */
const pieceSize = 256 * 1024;

/**
 * A large identity body on Bun: a stream that encodes the next ~256 KiB each time the
 * socket wants more, and hands out views of the one buffer. Sending starts with the
 * first piece instead of after the last, the event loop runs between pieces, and
 * nothing is copied: given a whole 12.5 MB buffer, Bun copied it into fresh memory and
 * the socket's backlog copied the rest again, ~40 ms each on the benchmark machine
 * with the event loop stalled (BENCHMARKS.md, 4).
 *
 * Bun asks for the next piece only once it is done with the last (written or
 * buffered), so the buffer is handed back when it asks for one past the end; a stream
 * cancelled early (the client went away) does not hand it back. _body_test.ts holds
 * Bun to this with a reader that stops reading. Deno is given a copy instead: how long
 * it holds a piece is not known.
 */
function streamed(w: ChunkWriter, families: readonly MetricFamily[], format: Format, recycle: () => void, done: OnEncoded): ReadableStream<Uint8Array> {
  const steps = encodeSteps(w, families, format);
  let sent = 0, finished = false, cancelled = false;
  let sliceStart = performance.now();
  const end = (error?: unknown) => {
    if (finished) return;
    finished = true;
    done(error);
  };
  const next = (c: ReadableStreamDefaultController<Uint8Array>) => {
    if (cancelled) return;
    try {
      while (!finished && w.pos - sent < pieceSize) {
        if (steps.next().done) {
          lastSize.set(format, w.pos);
          end();
        }
      }
    } catch (e) {
      end(e);
      c.error(e);
      return;
    }
    if (w.pos > sent) {
      c.enqueue(w.buf.subarray(sent, w.pos));
      sent = w.pos;
      return;
    }
    c.close();
    recycle();
  };
  return new ReadableStream<Uint8Array>({
    // While the socket takes data, Bun asks for piece after piece without returning to
    // the event loop (a 12.5 MB body was one 40 ms stall): every ~8 ms, a pull waits
    // for a turn of the loop first.
    pull(c) {
      if (performance.now() - sliceStart <= sliceMs) return next(c);
      return yieldToEventLoop().then(() => {
        sliceStart = performance.now();
        next(c);
      });
    },
    cancel() {
      cancelled = true;
      end();
    },
  }, { highWaterMark: 0 });
}

/** The size of the last large body of each format, to size the next one's buffer. */
const lastSize = new Map<Format, number>();

/**
 * Buffers free for the next large scrape. Two, so that two scrapes encoding at once
 * (each yields to the other) need not allocate.
 */
const spare: Uint8Array[] = [];
const maxSpare = 2;
/** Lets go of the buffers once no large scrape has used them for a while. */
const spareKept = expiring(() => {
  spare.length = 0;
});
