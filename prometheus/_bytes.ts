// A writer of UTF-8 bytes, for the encoders. Writing bytes
// directly, rather than building strings and converting them, allocates nothing per
// series: at 100,000 series the string route made ~10 objects a series and a 5 MB
// string plus its UTF-8 copy a scrape, which is what kept the heap and RSS high.

const bs = 0x5c, dq = 0x22, lf = 0x0a;

/** The first buffer's size; it doubles as output comes. */
const initialSize = 8 * 1024;

/**
 * Writes UTF-8 into one buffer that grows as needed. The escaping and number rules of
 * the text formats are written here once; the string forms below use them.
 */
export class ByteWriter {
  buf: Uint8Array;
  /** A view of {@linkcode buf}, for writing four bytes at a time (see {@linkcode wordsOf}). */
  view: DataView;
  pos = 0;

  /** Writes into `buffer` when given (one kept from an earlier encoding, say), else a small new one. */
  constructor(buffer?: Uint8Array) {
    // Start small and grow: a default exposition is ~4 KB, and zero-filling a 64 KiB
    // buffer for it cost more than encoding it (seen on Deno).
    this.buf = buffer ?? new Uint8Array(initialSize);
    this.view = viewOf(this.buf);
  }

  /** What has been written: a view of the buffer. */
  written(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** Makes room for `n` more bytes, moving what was written into a buffer twice as large or more. */
  reserve(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = Math.max(this.buf.length * 2, initialSize);
    while (size < need) size *= 2;
    this.#grow(size);
  }

  /**
   * Makes room for `n` more bytes, in a buffer of just that size when it must grow:
   * for room estimated in advance, which doubling would round up to the next power of two.
   */
  reserveExactly(n: number): void {
    const need = this.pos + n;
    if (need > this.buf.length) this.#grow(need);
  }

  #grow(size: number): void {
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
    this.view = viewOf(grown);
  }

  /** Copies bytes, such as a pre-encoded name. */
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    const buf = this.buf;
    let pos = this.pos;
    if (b.length > 64) {
      buf.set(b, pos);
      pos += b.length;
    } else {
      for (let i = 0; i < b.length; i++) buf[pos++] = b[i];
    }
    this.pos = pos;
  }

  /** Writes a string known to be ASCII: a number, a type name. */
  ascii(s: string): void {
    this.reserve(s.length);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
    this.pos = pos;
  }

  /**
   * Writes a string as UTF-8, escaping `\` and newline, and `"` when `quote` is set
   * (label values, and HELP in OpenMetrics). One pass does both. A lone surrogate,
   * which the model refuses before it gets here, would be written as U+FFFD.
   */
  escaped(s: string, quote: boolean): void {
    const n = s.length;
    this.reserve(n * 3); // the most a UTF-16 unit can take: 3 bytes, or 2 escaped
    const buf = this.buf;
    let pos = this.pos;
    // The usual name or label value, ASCII with nothing to escape, is copied in this
    // loop, small enough for the engines to inline into the encoders' loops.
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80 || c === bs || c === lf || c === dq) break;
      buf[pos++] = c;
    }
    this.pos = i < n ? this.#escapedFrom(s, i, pos, quote) : pos;
  }

  /** The rest of {@linkcode escaped} from `s[i]`, written at `pos`; returns the position after it. */
  #escapedFrom(s: string, i: number, pos: number, quote: boolean): number {
    const buf = this.buf;
    const n = s.length;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        if (c === bs) {
          buf[pos++] = bs;
          buf[pos++] = bs;
        } else if (c === lf) {
          buf[pos++] = bs;
          buf[pos++] = 0x6e; // n
        } else if (c === dq && quote) {
          buf[pos++] = bs;
          buf[pos++] = dq;
        } else buf[pos++] = c;
      } else if (c < 0x800) {
        buf[pos++] = 0xc0 | (c >> 6);
        buf[pos++] = 0x80 | (c & 0x3f);
      } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
        buf[pos++] = 0xf0 | (cp >> 18);
        buf[pos++] = 0x80 | ((cp >> 12) & 0x3f);
        buf[pos++] = 0x80 | ((cp >> 6) & 0x3f);
        buf[pos++] = 0x80 | (cp & 0x3f);
      } else {
        const u = c >= 0xd800 && c <= 0xdfff ? 0xfffd : c;
        buf[pos++] = 0xe0 | (u >> 12);
        buf[pos++] = 0x80 | ((u >> 6) & 0x3f);
        buf[pos++] = 0x80 | (u & 0x3f);
      }
    }
    return pos;
  }

  /** Writes a string as UTF-8, as it is (the protobuf exposition's strings). */
  text(s: string): void {
    this.reserve(s.length * 3);
    const buf = this.buf;
    let pos = this.pos;
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) buf[pos++] = c;
      else if (c < 0x800) {
        buf[pos++] = 0xc0 | (c >> 6);
        buf[pos++] = 0x80 | (c & 0x3f);
      } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
        buf[pos++] = 0xf0 | (cp >> 18);
        buf[pos++] = 0x80 | ((cp >> 12) & 0x3f);
        buf[pos++] = 0x80 | ((cp >> 6) & 0x3f);
        buf[pos++] = 0x80 | (cp & 0x3f);
      } else {
        const u = c >= 0xd800 && c <= 0xdfff ? 0xfffd : c;
        buf[pos++] = 0xe0 | (u >> 12);
        buf[pos++] = 0x80 | ((u >> 6) & 0x3f);
        buf[pos++] = 0x80 | (u & 0x3f);
      }
    }
    this.pos = pos;
  }

  /**
   * Writes a sample value as prometheus/common's text encoder does: Go's
   * `strconv.FormatFloat(v, 'g', -1, 64)` (shortest round-trip digits; the exponent
   * form, with at least two exponent digits, when the decimal exponent is below -4 or
   * 6 and above), `0` for ±0, `NaN`, `+Inf`, `-Inf`. Integers and values with up to 6
   * decimals are written digit by digit: `String(v)` cost ~100 ns a value on Bun, the
   * largest single cost of a 100k-series scrape. The output is
   * {@linkcode formatValue}'s, which the Go corpus test checks against Go itself.
   */
  number(v: number): void {
    this.#float(v);
  }

  /**
   * Writes a float as prometheus/common's OpenMetrics encoder does: the text form
   * with `.0` appended when it has neither `.` nor `e` (`1.0`, `0.0` for ±0, `1e+06`
   * as it is), and `NaN`, `+Inf`, `-Inf`.
   */
  numberOM(v: number): void {
    if (this.#float(v)) {
      this.reserve(2);
      this.buf[this.pos++] = 0x2e; // .
      this.buf[this.pos++] = 0x30; // 0
    }
  }

  /**
   * Writes `v` as {@linkcode number} does; returns whether it wrote a finite number's
   * digits alone, without `.` or `e` (what OpenMetrics completes with `.0`).
   */
  #float(v: number): boolean {
    if (this.buf.length - this.pos < maxNumberBytes) this.reserve(maxNumberBytes);
    const buf = this.buf;
    let pos = this.pos;
    const short = shortDecimal(buf, pos, v);
    if (short >= 0) {
      this.pos = short;
      return (v | 0) === v;
    }
    const a = v < 0 ? -v : v;
    if (Number.isSafeInteger(v)) {
      if (v < 0) buf[pos++] = 0x2d;
      this.pos = pos;
      this.#integerExp(a); // a >= 1e6: smaller integers were written above
      return false;
    }
    // A decimal m / 10^d with m < 2^50 is the only one with d decimals that reads back
    // as v (its spacing 10^-d is over 4 ulps of v), and the smallest such d gives the
    // fewest digits: the shortest round-trip digits, which Go writes without an
    // exponent for 1e-4 <= |v| < 1e6, and with one from 1e6 (1.79631366733e+09, a
    // start time in seconds). Both spare String(v) and toExponential(), ~100 ns a value,
    // and the first of them in a process ~140 µs more (Bun).
    if (a >= 1e6) { // false for NaN; for ±Inf, the loop does not run
      for (let d = 1, p = 10; a * p < 2 ** 50; d++, p *= 10) {
        const m = a * p;
        if (Number.isInteger(m) && m / p === a) {
          if (v < 0) buf[pos++] = 0x2d; // -
          this.pos = pos;
          this.#integerExp(m, d);
          return false;
        }
      }
    }
    if (a >= 1e-4 && a < 1e6) {
      for (let d = 2, p = 100; d <= 6; d++, p *= 10) {
        const m = a * p;
        if (Number.isInteger(m) && m / p === a) {
          // a * p can land on an integer one decimal late (93.2412 * 1e4 does not,
          // * 1e5 does): drop the trailing zeros, the same number with fewer digits
          // (at least one decimal remains: v is not an integer).
          let digits = m, decimals = d;
          while (decimals > 0 && digits % 10 === 0) {
            digits /= 10;
            decimals--;
          }
          if (v < 0) buf[pos++] = 0x2d; // -
          this.pos = pos;
          this.#digits(digits, decimals);
          return decimals === 0;
        }
      }
    }
    const s = formatValue(v);
    this.ascii(s);
    return v === v && v !== Infinity && v !== -Infinity && !s.includes(".") && !s.includes("e");
  }

  /** Writes an integer count (a bucket's, `_count`) as Go's `strconv.AppendUint`: all digits. */
  integer(v: number): void {
    if (Number.isSafeInteger(v)) {
      this.reserve(17);
      if (v < 0) {
        this.buf[this.pos++] = 0x2d;
        v = -v;
      }
      this.#digits(v, 0);
    } else this.ascii(Number.isFinite(v) ? BigInt(Math.trunc(v)).toString() : formatValue(v));
  }

  /**
   * Writes m / 10^shift, for a safe integer m and a quotient >= 1e6, in Go's exponent
   * form: 1e+06, 1.234567e+06 (m's digits without its trailing zeros).
   */
  #integerExp(m: number, shift = 0): void {
    const exp = (m <= 0x7fffffff ? int32Width(m) : int32Width(Math.floor(m / 1e8)) + 8) - 1;
    // Significant digits: m without its trailing zeros.
    let sig = m, zeros = 0;
    while (sig % 10 === 0) {
      sig /= 10;
      zeros++;
    }
    const decimals = exp - zeros;
    this.#digits(sig, decimals);
    const buf = this.buf, e = exp - shift;
    buf[this.pos++] = 0x65; // e
    buf[this.pos++] = 0x2b; // +
    buf[this.pos++] = 0x30 + ((e / 10) | 0);
    buf[this.pos++] = 0x30 + (e % 10);
  }

  /** Writes the integer m >= 0 with a decimal point before its last `decimals` digits. */
  #digits(m: number, decimals: number): void {
    const buf = this.buf;
    if (m <= 0x7fffffff) {
      this.pos = int32Digits(buf, this.pos, m, decimals);
      return;
    }
    // Above 2^31 (up to 2^53): two int32 halves, the high one's digits, then the low
    // one's eight with their zeros; then the decimal point moved in. It has more digits
    // than decimals here (at most 6 decimals, or the exponent form's after the first).
    const hi = Math.floor(m / 1e8);
    let v = m - hi * 1e8, pos = int32Digits(buf, this.pos, hi, 0) + 8;
    for (let at = pos; at > pos - 8;) {
      const q = (v * 0.01) | 0, r = (v - q * 100) << 1;
      buf[--at] = digitPairs[r + 1];
      buf[--at] = digitPairs[r];
      v = q;
    }
    if (decimals > 0) {
      for (let k = 0; k < decimals; k++) buf[pos - k] = buf[pos - k - 1];
      buf[pos - decimals] = 0x2e; // .
      pos++;
    }
    this.pos = pos;
  }
}

function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * The bytes of `b` four at a time, little-endian, as `ByteWriter.view.setInt32(pos, word,
 * true)` writes them back (its last `b.length % 4` bytes are left to copy one by one):
 * a template's bytes copied so take a third of the time of a byte loop on Bun (100k
 * lines' 28 bytes: ~2.1 → ~0.6 ms), less on Deno.
 */
export function wordsOf(b: Uint8Array): Int32Array {
  const words = new Int32Array(b.length >> 2);
  for (let i = 0; i < words.length; i++) {
    const at = i * 4;
    words[i] = b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24);
  }
  return words;
}

/**
 * The most bytes a number takes as {@linkcode ByteWriter.number} writes it:
 * `-2.2250738585072014e-308` is 24.
 */
const maxNumberBytes = 32;

/** `00` to `99`, two ASCII digits each: numbers are written two digits a step. */
const digitPairs = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  digitPairs[2 * i] = 0x30 + ((i / 10) | 0);
  digitPairs[2 * i + 1] = 0x30 + (i % 10);
}

/** The number of decimal digits of the integer 0 <= m < 2^31. */
function int32Width(m: number): number {
  if (m < 100000) return m < 10 ? 1 : m < 100 ? 2 : m < 1000 ? 3 : m < 10000 ? 4 : 5;
  return m < 1000000 ? 6 : m < 10000000 ? 7 : m < 100000000 ? 8 : m < 1000000000 ? 9 : 10;
}

/**
 * Writes the integer 0 <= m < 2^31 at `pos` with a decimal point before its last
 * `decimals` digits (leading zeros as needed: `0.05`); returns the position after it.
 * `(v * 0.1) | 0` is v / 10 rounded down for any such v (0.1 as a double is a little
 * above a tenth, by far less than a tenth of 1/2^31), and a multiplication is cheaper
 * than a division.
 */
function int32Digits(buf: Uint8Array, pos: number, m: number, decimals: number): number {
  let width = int32Width(m);
  if (width <= decimals) width = decimals + 1; // 0.05: leading zeros
  const end = pos + width + (decimals > 0 ? 1 : 0);
  let at = end, v = m | 0;
  for (let k = 0; k < decimals; k++) {
    const q = (v * 0.1) | 0;
    buf[--at] = 0x30 + v - q * 10;
    v = q;
  }
  if (decimals > 0) buf[--at] = 0x2e; // .
  while (v >= 100) {
    const q = (v * 0.01) | 0, r = (v - q * 100) << 1;
    buf[--at] = digitPairs[r + 1];
    buf[--at] = digitPairs[r];
    v = q;
  }
  if (v >= 10) {
    buf[--at] = digitPairs[(v << 1) + 1];
    buf[--at] = digitPairs[v << 1];
  } else buf[--at] = 0x30 + v;
  return end;
}

/**
 * Writes at `pos` the usual sample value, an integer or a number with one decimal (a
 * half, say) below 1e6 in magnitude, as {@linkcode ByteWriter.number} does (Go's
 * shortest digits: the first step of its search, the same digits), and returns the
 * position after it; returns -1, writing nothing, for any other value. `buf` has room
 * for 9 bytes at `pos` (`-999999.5`). Exported for the text encoder's hot loop, which writes the
 * value of a line with the rest of it rather than through the writer.
 */
export function shortDecimal(buf: Uint8Array, pos: number, v: number): number {
  const a = v < 0 ? -v : v; // -0 stays -0, written as 0 (no sign: it is not below 0)
  if (!(a < 1e6)) return -1; // NaN too
  const m = a * 10;
  if ((m | 0) !== m || m / 10 !== a) return -1;
  if (v < 0) buf[pos++] = 0x2d; // -
  return (a | 0) === a ? int32Digits(buf, pos, a, 0) : int32Digits(buf, pos, m, 1);
}

/**
 * Makes room at once for the rest of a large family, `series` more series of about
 * `bytesPerSeries` each, as its first step wrote them: growing the buffer step by step
 * (doubling from 8 KiB) allocated, zeroed and copied twice the output, half the time
 * of a 100k-series encoding into a fresh buffer. Room for an eighth more, as later
 * series' label values may be longer, and no more (a buffer of 1.125× the output, not
 * the next power of two); it grows as usual if that is not enough.
 */
export function reserveFor(w: ByteWriter, bytesPerSeries: number, series: number): void {
  w.reserveExactly(Math.ceil(bytesPerSeries * series * 1.125));
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a string, for names and templates encoded once. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** The chunks one after the other in one buffer; a single chunk is returned as it is. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Formats a sample value as prometheus/common's text encoder does: Go's
 * `strconv.FormatFloat(v, 'g', -1, 64)` — the shortest digits that read back as `v`,
 * in exponent form (`1e+06`, `1.5e-07`, two exponent digits at least) when the
 * decimal exponent is below -4 or at least 6 — with `0` for ±0, `NaN`, `+Inf` and
 * `-Inf`. JavaScript and Go choose the same shortest digits; only the layout
 * differs (JavaScript switches to exponents at 1e21 and below 1e-6).
 */
export function formatValue(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v === 0) return "0"; // Go's writeFloat special-cases zero: -0 too
  const a = v < 0 ? -v : v;
  if (a >= 1e-4 && a < 1e6) return String(v);
  if (v !== v) return "NaN";
  // toExponential() gives the shortest digits as "d.ddde+N"; Go pads N to 2 digits.
  const s = v.toExponential();
  const e = s.indexOf("e");
  const exp = s.slice(e + 2);
  return exp.length === 1 ? `${s.slice(0, e + 2)}0${exp}` : s;
}

/**
 * Formats a float as prometheus/common's OpenMetrics encoder does: the text form,
 * with `.0` appended when it holds neither `.` nor `e` (`1.0`, `0.0`, `1e+06`).
 */
export function formatOpenMetricsFloat(v: number): string {
  const s = formatValue(v);
  if (v !== v || v === Infinity || v === -Infinity) return s;
  return s.includes(".") || s.includes("e") ? s : s + ".0";
}

const labelValueEscapesRe = /[\\"\n]/;
const helpEscapesRe = /[\\\n]/;
const scratch = new ByteWriter();
// ignoreBOM: a text that starts with U+FEFF keeps it (the default decoder drops it).
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** `s` as ByteWriter.escaped writes it: one escaping rule for bytes and strings. */
function escapedString(s: string, quote: boolean): string {
  scratch.pos = 0;
  scratch.escaped(s, quote);
  return decoder.decode(scratch.written());
}

/** Escapes a label value for both text formats: `\`, `"` and newline. */
export function escapeLabelValue(v: string): string {
  // Most values need no escaping; testing first avoids making a new string.
  return labelValueEscapesRe.test(v) ? escapedString(v, true) : v;
}

/** Escapes a HELP text for the Prometheus text format: `\` and newline. */
export function escapeHelpText(h: string): string {
  return helpEscapesRe.test(h) ? escapedString(h, false) : h;
}
