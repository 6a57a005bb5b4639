// Cheap reads of /proc files for the process collector. A /proc file's content is
// generated on each read from offset 0, so a file kept open is re-read with one pread
// instead of open, fstat, read and close: 3–4 µs instead of 13–30 µs (see
// ../shared/MEASURED.md for the per-call costs on this machine).
import { createRequire } from "node:module";
import process from "node:process";

/**
 * How long the process collector serves one reading of its values (and the metrics
 * made of it) again. Scraped as Prometheus does, every few seconds, each scrape reads
 * afresh; scraped back to back (a load test, thousands a second), a reading's three
 * system calls and six metrics are spent once per this many ms instead of once a
 * scrape. client_golang's CPU time counts 10 ms ticks, so its value may lag as much.
 * The README lists the values that may be this old.
 */
export const readingMaxAgeMs = 10;

type Fs = typeof import("node:fs");
let fsModule: Fs | undefined;

/**
 * node:fs, loaded at its first use rather than with this module. Importing it costs a
 * compiled Bun binary ~4 ms of start-up (measured: an empty program 6.3 ms, with
 * node:fs imported 9.8 ms), which `--version` and `--healthcheck` would pay for a
 * collector they never run; the first scrape pays it instead.
 * `process.getBuiltinModule` is synchronous, as a collect is, on Bun, Deno and Node
 * from 20.16; older Node 20 releases lack it and take `require` instead.
 */
export function fs(): Fs {
  const p = process as unknown as { getBuiltinModule?(id: string): Fs };
  return fsModule ??= p.getBuiltinModule?.("node:fs") ?? createRequire(import.meta.url)("node:fs");
}

/** A /proc file kept open and re-read from the start on each call. */
export class ProcFile {
  readonly path: string;
  #fd: number | undefined;
  #failed = false;
  #buf: Uint8Array;

  constructor(path: string, size = 4096) {
    this.path = path;
    this.#buf = new Uint8Array(size);
  }

  /**
   * The file's current bytes (a view valid until the next call), or undefined when
   * it cannot be opened (absent, or no permission): then it is not tried again.
   */
  read(): Uint8Array | undefined {
    if (this.#failed) return undefined;
    try {
      this.#fd ??= fs().openSync(this.path, "r");
      let n = fs().readSync(this.#fd, this.#buf, 0, this.#buf.length, 0);
      while (n === this.#buf.length) { // larger than thought: grow and read again
        this.#buf = new Uint8Array(this.#buf.length * 2);
        n = fs().readSync(this.#fd, this.#buf, 0, this.#buf.length, 0);
      }
      return this.#buf.subarray(0, n);
    } catch {
      this.#failed = true;
      return undefined;
    }
  }
}

/**
 * The space-separated fields of /proc/PID/stat after the command name, which is in
 * parentheses and may itself hold spaces or parentheses: index 0 is field 3 (state)
 * of proc(5). Only the fields up to `upTo` are parsed, as numbers.
 */
export function statFields(b: Uint8Array, upTo: number): number[] {
  return numberFields(b, upTo, b.lastIndexOf(0x29 /* ) */) + 2);
}

/**
 * The space-separated fields of `b` from byte `start` (as /proc/PID/statm), parsed as
 * unsigned integers up to index `upTo`; a field without digits is NaN.
 */
export function numberFields(b: Uint8Array, upTo: number, start = 0): number[] {
  let i = start;
  const out: number[] = [];
  while (i < b.length && out.length <= upTo) {
    let v = 0;
    let digits = false;
    for (; i < b.length && b[i] !== 0x20; i++) {
      const c = b[i] - 0x30;
      if (c >= 0 && c <= 9) {
        v = v * 10 + c;
        digits = true;
      }
    }
    out.push(digits ? v : NaN);
    i++;
  }
  return out;
}

const latin1 = new TextDecoder("latin1");

/** The soft limit on open files from /proc/PID/limits; Infinity for "unlimited". */
export function maxOpenFiles(b: Uint8Array): number | undefined {
  const m = latin1.decode(b).match(/^Max open files\s+(\S+)/m);
  if (!m) return undefined;
  return m[1] === "unlimited" ? Infinity : Number(m[1]);
}

/** AT_PAGESZ, the auxiliary-vector entry that holds the page size (elf.h). */
const atPageSize = 6;

/**
 * The page size from the bytes of /proc/PID/auxv: the value of its AT_PAGESZ entry,
 * as getpagesize(3) and Go's os.Getpagesize read it. The vector is pairs of native
 * words; it is read as 64-bit little-endian pairs (x86-64 and arm64, where Bun and
 * Deno run), and undefined comes back when that reading finds no power of two, so
 * that the caller can ask elsewhere.
 */
export function auxvPageSize(b: Uint8Array): number | undefined {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i + 16 <= b.length; i += 16) {
    // Types are small numbers; values may be addresses, which use the high half.
    if (v.getUint32(i + 4, true) !== 0) return undefined; // not 64-bit little-endian
    const type = v.getUint32(i, true);
    if (type === 0) return undefined; // AT_NULL: the end
    if (type !== atPageSize) continue;
    const value = v.getUint32(i + 8, true);
    return v.getUint32(i + 12, true) === 0 && value >= 512 && (value & (value - 1)) === 0 ? value : undefined;
  }
  return undefined;
}

type DenoFs = {
  readDirSync(p: string): Iterable<unknown>;
  openSync(p: string): { statSync(): { size: number } };
};
const deno = (globalThis as { Deno?: DenoFs }).Deno;

/**
 * The number of open file descriptors, from `/proc/PID/fd`. Since Linux 6.2 the size of
 * that directory is the count; the directory is kept open and its size read with one
 * fstat: 1.1 µs on Bun and 1.7 µs on Deno (Deno.FsFile), against 3.9 and 15.6 µs for a
 * stat of the path (node:fs) and 13–90 µs to list it. On older kernels the size is 0 and
 * the directory is listed. The kept-open descriptor is itself counted, as Go's count
 * includes the one it opens to list the directory.
 */
export class OpenFds {
  readonly dir: string;
  #size: (() => number) | undefined;
  #failed = false;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** The count, or undefined when the directory cannot be read: then it is not tried again. */
  count(): number | undefined {
    if (this.#failed) return undefined;
    try {
      this.#size ??= sizeOfOpenDir(this.dir);
      const size = this.#size();
      if (size > 0) return size;
    } catch {
      this.#failed = true;
      return undefined;
    }
    return countEntries(this.dir);
  }
}

/** Opens `dir` and returns a reader of its current size. */
function sizeOfOpenDir(dir: string): () => number {
  if (deno) {
    const f = deno.openSync(dir);
    return () => f.statSync().size;
  }
  const fd = fs().openSync(dir, "r");
  return () => fs().fstatSync(fd).size;
}

/**
 * The number of entries in a directory, or undefined when it cannot be read. On Deno
 * its own readDirSync is used: node:fs's readdirSync costs ~90 µs there for /proc/self/fd.
 */
export function countEntries(dir: string): number | undefined {
  try {
    if (deno) {
      let n = 0;
      for (const _ of deno.readDirSync(dir)) n++;
      return n;
    }
    return fs().readdirSync(dir).length;
  } catch {
    return undefined;
  }
}
