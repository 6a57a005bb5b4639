// Turning gathered families into response bodies: encoding without stalling the event
// loop, sharing one encoding among the scrapes that asked for it, and cutting off
// clients that stop reading.
import { encodeBytes, type EncodeOpts, encodeSliced, type Format, seriesCount } from "../prometheus/expfmt.ts";
import type { MetricFamily } from "../prometheus/registry.ts";
import { giveBuffer, takeBuffer } from "../prometheus/reuse.ts";
import { largeEnded, largeStarted } from "./_reclaim.ts";

/**
 * Expositions with more series than this are encoded in time slices, with event-loop
 * turns between them, compressed off the main thread on Deno, and served as a stream
 * of pieces of one shared encoding: a health check or another request then waits at
 * most one slice instead of the whole encoding.
 */
export const largeExposition = 10_000;

/** Gzip at level 1: most of the size gain at a fraction of the default level's cost. */
const gzipOptions = { level: 1 } as const;

type BunGzip = { gzipSync(data: Uint8Array, o: { level: 1 }): Uint8Array };
const bun = (globalThis as { Bun?: BunGzip }).Bun;

/**
 * On Deno an ArrayBuffer's memory comes from glibc's malloc, which maps a block apart
 * (and unmaps it when freed) only above its mmap threshold, and raises that threshold
 * to the size of each mapped block freed, up to 32 MiB. So after the first large scrape
 * a 7 MB encoding buffer came from the heap (seen with an LD_PRELOAD tracer: 12 of 12),
 * and once freed stayed resident unless it lay at the heap's top: after 40 non-reading
 * clients of a 200k-series body, RSS after GC was 15–47 MiB higher in 2 of 5 runs. A
 * request above 32 MiB is always mapped apart and unmapped when freed; only the pages
 * written count in RSS. Scrapes within the pool's expiry reuse the one mapping.
 */
const mappedApart = 32 * 1024 * 1024 + 1;

/** The least size of a large exposition's encoding buffer (see {@linkcode mappedApart}). */
const encodingBufferMin = bun ? 0 : mappedApart;

/**
 * A large body's gzip on Deno writes into one output chunk mapped apart (see
 * {@linkcode mappedApart}) instead of node:zlib's 16 KiB ones: in the long slow-readers
 * scenario (40 non-readers, 20 gzipped scrapes) RSS after GC stayed +21.1/+24.1/+21.1
 * MiB above its baseline with those, +12.5/+8.0/+18.1 MiB with this (runs interleaved);
 * CPU a 100k-series gzipped scrape the same (45 against 47 ms, median of 3 rounds).
 */
const largeGzipOptions = { ...gzipOptions, chunkSize: mappedApart } as const;

/**
 * node:zlib, loaded on the first request that needs it: importing it at start-up
 * costs a compiled Bun binary ~16 ms and ~12 MiB of RSS, and most scrapes on Bun never
 * need it.
 */
let zlib: Promise<typeof import("node:zlib")> | undefined;
const loadZlib = () => zlib ??= import("node:zlib");

/**
 * Compresses a body. Bun's native gzip takes ~10 ms for 5 MB at level 1, faster than
 * handing the work to zlib's thread pool; elsewhere a large body is compressed on
 * zlib's pool, so the event loop keeps running.
 */
async function gzipBody(bytes: Uint8Array, large: boolean): Promise<Uint8Array> {
  if (bun) return bun.gzipSync(bytes, gzipOptions);
  const z = await loadZlib();
  if (!large) return z.gzipSync(bytes, gzipOptions);
  return await new Promise<Uint8Array>((resolve, reject) => {
    z.gzip(bytes, largeGzipOptions, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

/** What gathering hands to the encoder: the families, and the one way to release them. */
export interface GatheredFamilies {
  readonly families: readonly MetricFamily[];
  /** Says the families are no longer read; called exactly once by {@linkcode encodeBody}. */
  readonly done: () => void;
}

/** How a body's life ended. */
export type BodyEnd = "sent" | "client gone" | "write timeout";

/** One response's body. */
export interface Body {
  /**
   * What to give `new Response()`: the bytes of a small body (the Response copies
   * them), or a stream of pieces of a large one's shared encoding.
   */
  readonly content: Uint8Array | ReadableStream<Uint8Array>;
  /**
   * Settles once, with how the body ended: handed over in full, the client went away,
   * or the write timeout cut it off. Whichever comes first wins; its memory is released
   * then.
   */
  readonly finished: Promise<BodyEnd>;
}

/** The size of the last large body of each format, to size the next one's buffer. */
const lastSize = new Map<Format, number>();

/**
 * An encoded exposition that any number of responses serve, each from its own stream
 * of views of the one buffer; the buffer goes back to the pool (see
 * prometheus/reuse.ts) when the last of them ends cleanly. Sharing is what bounds the
 * memory of many clients that request a large body and never read it: they hold one
 * encoding between them, not one each (issue 12).
 */
export class Encoding {
  readonly bytes: Uint8Array;
  /** The pooled buffer `bytes` views, while it may be handed back; else undefined. */
  #pooled: Uint8Array | undefined;
  /** The small-exposition buffer `bytes` views (see {@linkcode keptSmall}), until released. */
  #small: Uint8Array | undefined;
  /** Streams not yet ended, plus one for the maker until it calls drop(). */
  #users = 1;
  /** Made of a large exposition: its end may let the runtime reclaim memory (see _reclaim.ts). */
  readonly #large: boolean;

  constructor(bytes: Uint8Array, pooled: Uint8Array | undefined, large = false, small?: Uint8Array) {
    this.bytes = bytes;
    this.#pooled = pooled;
    this.#small = small;
    this.#large = large;
    if (large) largeStarted();
  }

  /**
   * A body serving these bytes. When the client has not taken all of a streamed body
   * `writeTimeoutMs` after this call (0: no limit), the stream is errored: the runtime
   * aborts the response (see HandlerOpts.writeTimeoutMs). `inOrder`: the server writes
   * each piece before it reads the next (see {@linkcode piecesInOrder}).
   */
  body(writeTimeoutMs: number, inOrder = false): Body {
    if (!this.#pooled && this.bytes.length < streamFrom) {
      return { content: this.bytes, finished: Promise.resolve("sent") };
    }
    this.#users++;
    // Deno.serve may hold a piece for a time not known: its buffer is never reused.
    if (!bun && !inOrder) this.#pooled = undefined;
    return streamed(this.bytes, writeTimeoutMs, (end) => this.#release(end));
  }

  /** Says no more bodies will be made of this encoding. */
  drop(): void {
    this.#release("sent");
  }

  /**
   * The pool buffer is handed back once nothing may send from it any more: Bun asks
   * for a piece only when it is done with the last, so a stream that ended cleanly
   * holds nothing; one cut off (client gone, timeout) may still, so its buffer is left
   * to the garbage collector.
   */
  #release(end: BodyEnd): void {
    if (end !== "sent") this.#pooled = undefined;
    if (--this.#users > 0) return;
    if (this.#pooled) giveBuffer(this.#pooled);
    this.#pooled = undefined;
    // Every body of it has been made, and a Response copies a Uint8Array body.
    if (this.#small) keepSmall(this.#small);
    this.#small = undefined;
    if (this.#large) largeEnded();
  }
}

/** Bodies at least this large are streamed even when not pooled (a gzipped large body). */
const streamFrom = 256 * 1024;

/**
 * The mark the kit's own HTTP/1.1 server (web/_http1.ts) puts on the requests it makes:
 * it reads a body's next piece only once the last is written, so a stream that ended
 * cleanly holds nothing, as on Bun, and its buffer can be reused. A registered symbol,
 * so that web/ and promhttp/ need not import each other's private files.
 */
export const piecesInOrderMark: unique symbol = Symbol.for("ts-exporter-kit.http1.piecesWrittenInOrder");

/** Whether `req` came from a server that carries the mark of {@linkcode piecesInOrderMark}. */
export function piecesInOrder(req: Request): boolean {
  return (req as unknown as Record<symbol, unknown>)[piecesInOrderMark] === true;
}

/**
 * The mark of a Response whose body was given to it as one complete Uint8Array, which
 * the kit's own HTTP/1.1 server (web/_http1.ts) then takes with `res.bytes()` instead
 * of reading `res.body`: on Deno that getter makes a ReadableStream of a body the
 * Response holds whole, and reading it takes a reader and two reads (together ~4 µs of
 * a default scrape's CPU there). A registered symbol, like {@linkcode piecesInOrderMark}.
 */
export const wholeBodyMark: unique symbol = Symbol.for("ts-exporter-kit.http1.wholeBody");

/** `res`, marked as holding its body whole (see {@linkcode wholeBodyMark}); its body must be a Uint8Array. */
export function markWholeBody(res: Response): Response {
  (res as unknown as Record<symbol, boolean>)[wholeBodyMark] = true;
  return res;
}

/**
 * Encodes `gathered` in `format`, gzipped when asked, and calls `gathered.done()`
 * exactly once, as soon as the families have been read (or the encoding failed). Small
 * expositions are encoded in one go; large ones (see {@linkcode largeExposition}) into
 * a buffer kept from an earlier scrape, in slices of about 8 ms with the event loop let
 * through between them.
 */
export async function encodeBody(
  gathered: GatheredFamilies,
  format: Format,
  gzip: boolean,
  opts: EncodeOpts = {},
): Promise<Encoding> {
  const { families } = gathered;
  let identity: Uint8Array, pooled: Uint8Array | undefined;
  const large = seriesCount(families) > largeExposition;
  let small: Uint8Array | undefined;
  try {
    if (!large) {
      identity = encodeBytes(families, format, opts, keptSmall);
      keptSmall = undefined;
      small = new Uint8Array(identity.buffer as ArrayBuffer);
    } else {
      // Sized from the last body of this format, so that it rarely has to grow; the
      // buffer written into (the one taken, or a larger one) goes back to the pool.
      const size = Math.max(encodingBufferMin, Math.ceil((lastSize.get(format) ?? 0) * 1.05));
      identity = await encodeSliced(families, format, takeBuffer(size), opts);
      lastSize.set(format, identity.length);
      pooled = new Uint8Array(identity.buffer as ArrayBuffer);
    }
  } finally {
    gathered.done();
  }
  if (!gzip) return new Encoding(identity, pooled, large, small);
  try {
    return new Encoding(await gzipBody(identity, large), undefined, large);
  } finally {
    if (pooled) giveBuffer(pooled); // gzip has read it
    if (small) keepSmall(small);
  }
}

/**
 * The buffer the next small exposition is encoded into, while no encoding holds it:
 * taken by one, handed back when its last body has been made. A default scrape's ~5 KB
 * then costs no allocation of 8 KiB and its zeroing, which was a fifth of encoding it
 * on Bun; a second scrape encoding meanwhile gets a new buffer, as before.
 */
let keptSmall: Uint8Array | undefined;

/** Buffers larger than this are not kept: a small exposition's memory stays small. */
const keptSmallMax = 64 * 1024;

function keepSmall(b: Uint8Array): void {
  if (keptSmall === undefined && b.length <= keptSmallMax) keptSmall = b;
}

/** Bytes a streamed body hands out at a time, about. */
const pieceSize = 256 * 1024;

/**
 * A stream of `bytes` in pieces of ~256 KiB, one each time the socket wants more: the
 * event loop runs between pieces, and on Bun nothing is copied (given a whole 12.5 MB
 * buffer, Bun copied it into fresh memory and the socket's backlog copied the rest
 * again, ~40 ms each on the benchmark machine with the event loop stalled,
 * BENCHMARKS.md, 4). Bun asks for the next piece only once it is done with the last
 * (written or buffered), so a pull past the end means the bytes are no longer read;
 * _body_test.ts holds Bun to this. So does the kit's own server (web/_http1.ts, on Deno
 * and behind --web.server=kit on Bun), which marks its requests (piecesInOrder). How
 * long Deno.serve holds a piece is not known, so a buffer it streamed from is never
 * handed back to the pool.
 */
function streamed(bytes: Uint8Array, writeTimeoutMs: number, release: (end: BodyEnd) => void): Body {
  let sent = 0, ended = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let settle!: (end: BodyEnd) => void;
  const finished = new Promise<BodyEnd>((resolve) => settle = resolve);
  const end = (how: BodyEnd) => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    release(how);
    settle(how);
  };
  const content = new ReadableStream<Uint8Array>({
    start(c) {
      if (writeTimeoutMs > 0) {
        timer = setTimeout(() => {
          if (ended) return;
          end("write timeout");
          c.error(new Error(`client did not read the body within the write timeout (${writeTimeoutMs} ms)`));
        }, writeTimeoutMs);
      }
    },
    pull(c) {
      if (ended) return;
      if (sent < bytes.length) {
        const to = Math.min(bytes.length, sent + pieceSize);
        c.enqueue(bytes.subarray(sent, to));
        sent = to;
        return;
      }
      c.close();
      // The pull that finds the end can come before the last piece is used: the kit's
      // server reads twice to tell a one-piece body, then copies that piece. The
      // buffer is released a turn later, once such a reader has resumed and copied.
      clearTimeout(timer);
      setTimeout(() => end("sent"), 0);
    },
    cancel() {
      end("client gone");
    },
  }, { highWaterMark: 0 });
  return { content, finished };
}
