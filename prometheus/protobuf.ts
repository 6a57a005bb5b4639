// The protobuf exposition (`application/vnd.google.protobuf;
// proto=io.prometheus.client.MetricFamily; encoding=delimited`): each family an
// `io.prometheus.client.MetricFamily` message (client_model's metrics.proto) prefixed
// with its length as a varint. A hand-written writer over the kit's ByteWriter, with
// fields in field-number order as Go's protobuf marshals them; it is the only format
// that carries native histograms, and it carries created timestamps always.
import { ByteWriter, reserveFor } from "./_bytes.ts";
import type { Desc } from "./desc.ts";
import { defaultEscaping, escapeNameIfNeeded, type EscapingScheme } from "./escaping.ts";
import { ColumnFamily, familySize, type MetricFamily } from "./_family.ts";
import type { Exemplar, HistogramMetric, Metric, NativeHistogramData, SummaryMetric } from "./value.ts";

// Wire types.
const VARINT = 0, I64 = 1, LEN = 2;

/** metrics.proto's MetricType numbers. */
const metricTypes = { counter: 0, gauge: 1, summary: 2, untyped: 3, histogram: 4 } as const;

/**
 * Go's math.NaN() (0x7ff8000000000001), which is what a Go exporter sends for any NaN;
 * JavaScript's own NaN has another payload, and engines keep none.
 */
const goNaN = 0x7ff8000000000001n;

/** Writes protobuf fields into a ByteWriter. */
class Proto {
  constructor(readonly w: ByteWriter) {}

  /** A varint of a non-negative integer below 2^53 (or a negative one, as int64's ten bytes). */
  varint(v: number): void {
    const w = this.w;
    w.reserve(10);
    const buf = w.buf;
    let pos = w.pos;
    if (v < 0x80 && v >= 0) {
      buf[pos] = v;
      w.pos = pos + 1;
      return;
    }
    if (v < 0x80000000 && v > 0) {
      let u = v | 0;
      while (u >= 0x80) {
        buf[pos++] = (u & 0x7f) | 0x80;
        u >>>= 7;
      }
      buf[pos++] = u;
      w.pos = pos;
      return;
    }
    if (v < 0) {
      // int64 two's complement: ten bytes.
      let b = BigInt.asUintN(64, BigInt(v));
      while (b >= 0x80n) {
        buf[pos++] = Number(b & 0x7fn) | 0x80;
        b >>= 7n;
      }
      buf[pos++] = Number(b);
      w.pos = pos;
      return;
    }
    while (v >= 0x80) {
      buf[pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    buf[pos++] = v;
    w.pos = pos;
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** A zigzag-encoded sint32/sint64 field. */
  sint(field: number, v: number): void {
    this.tag(field, VARINT);
    this.varint(v >= 0 ? 2 * v : -2 * v - 1);
  }

  uint(field: number, v: number): void {
    this.tag(field, VARINT);
    this.varint(v);
  }

  /**
   * A double field. Its 8 bytes are one little-endian DataView store (here and in the
   * encoders' one-go paths), whatever the machine's byte order: copying them from a
   * Float64Array's bytes cost 7–16 % more of encoding 100k histograms or gauges.
   */
  double(field: number, v: number): void {
    this.tag(field, I64);
    const w = this.w;
    w.reserve(8);
    if (v === v) w.view.setFloat64(w.pos, v, true);
    else w.view.setBigUint64(w.pos, goNaN, true);
    w.pos += 8;
  }

  string(field: number, s: string): void {
    this.tag(field, LEN);
    this.varint(utf8Length(s));
    this.w.text(s);
  }

  /**
   * Opens a length-delimited field whose length is known once it is written, keeping
   * `room` bytes for that length (one, or two for a field sure to take 128 bytes or
   * more); see {@linkcode end}.
   */
  begin(field: number, room = 1): number {
    this.tag(field, LEN);
    this.w.reserve(room);
    const at = this.w.pos;
    this.w.pos += room;
    return at;
  }

  /**
   * Closes a field opened at `at` with `room` bytes kept for its length: writes the
   * length there, moving the content when the length takes another number of bytes.
   */
  end(at: number, room = 1): void {
    const w = this.w;
    const len = w.pos - at - room;
    if (len < 0x80 && room === 1) {
      w.buf[at] = len;
      return;
    }
    let size = 1;
    for (let v = len; v >= 0x80; v = Math.floor(v / 0x80)) size++;
    if (size !== room) {
      if (size > room) w.reserve(size - room);
      w.buf.copyWithin(at + size, at + room, w.pos);
      w.pos += size - room;
    }
    let v = len, p = at;
    while (v >= 0x80) {
      w.buf[p++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    w.buf[p] = v;
  }

  /** A google.protobuf.Timestamp from milliseconds since the epoch, as Go's timestamppb.New. */
  timestamp(field: number, ms: number): void {
    const at = this.begin(field);
    const seconds = Math.floor(ms / 1000);
    const nanos = Math.round((ms - seconds * 1000) * 1e6);
    if (seconds !== 0) {
      this.tag(1, VARINT);
      this.varint(seconds);
    }
    if (nanos !== 0) this.uint(2, nanos);
    this.end(at);
  }
}

/** The UTF-8 length of a string (lone surrogates count as U+FFFD, as written). */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // 4 bytes for 2 units
      i++;
    } else n += 2;
  }
  return n;
}

/** The label pairs of one Desc, in name order, ready to be written per series. */
interface LabelTemplate {
  /** Per label in name order: the whole LabelPair field of a constant, or the variable's index. */
  readonly slots: readonly (Uint8Array | number)[];
  /** For variable labels: `LabelPair.name` field and the `value` tag, written once. */
  readonly prefixes: readonly Uint8Array[];
}

const labelTemplates = new WeakMap<Desc, Map<EscapingScheme, LabelTemplate>>();

/** Bytes written by `fn` into a fresh writer. */
function bytesOf(fn: (p: Proto) => void): Uint8Array {
  const w = new ByteWriter(new Uint8Array(64));
  fn(new Proto(w));
  return w.written().slice();
}

function labelTemplate(desc: Desc, scheme: EscapingScheme): LabelTemplate {
  let byScheme = labelTemplates.get(desc);
  if (!byScheme) labelTemplates.set(desc, byScheme = new Map());
  let t = byScheme.get(scheme);
  if (t) return t;
  const names = [
    ...Object.keys(desc.constLabels).map((name) => ({ name, index: -1 })),
    ...desc.variableLabels.map((name, index) => ({ name, index })),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const slots: (Uint8Array | number)[] = [];
  const prefixes: Uint8Array[] = [];
  for (const { name, index } of names) {
    const written = escapeNameIfNeeded(name, scheme);
    if (index < 0) {
      slots.push(bytesOf((p) => {
        const at = p.begin(1);
        p.string(1, written);
        p.string(2, desc.constLabels[name]);
        p.end(at);
      }));
    } else {
      slots.push(index);
      prefixes[index] = bytesOf((p) => {
        p.string(1, written);
        p.tag(2, LEN);
      });
    }
  }
  byScheme.set(scheme, t = { slots, prefixes });
  return t;
}

/** Writes the label pairs of one series, its values at `base` of `labels`. */
function writeLabels(p: Proto, t: LabelTemplate, labels: readonly string[], base: number): void {
  const w = p.w;
  const slots = t.slots;
  for (let k = 0; k < slots.length; k++) {
    const slot = slots[k];
    if (typeof slot !== "number") {
      w.bytes(slot);
      continue;
    }
    const v = labels[base + slot], prefix = t.prefixes[slot];
    if (prefix.length + 3 * v.length < 127) {
      // The usual pair, under 128 bytes whatever v's UTF-8: both lengths are one byte,
      // kept and filled in once v is written, so that v is read once, not measured first.
      w.reserve(2);
      w.buf[w.pos++] = 0x0a; // LabelPair, field 1, LEN
      const pairAt = w.pos++;
      w.bytes(prefix);
      w.reserve(1);
      const valueAt = w.pos++;
      w.text(v);
      w.buf[valueAt] = w.pos - valueAt - 1;
      w.buf[pairAt] = w.pos - pairAt - 1;
      continue;
    }
    const vlen = utf8Length(v);
    p.tag(1, LEN);
    p.varint(prefix.length + varintSize(vlen) + vlen);
    w.bytes(prefix);
    p.varint(vlen);
    w.text(v);
  }
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

function writeExemplar(p: Proto, field: number, e: Exemplar): void {
  const at = p.begin(field);
  for (const name of Object.keys(e.labels).sort()) {
    const lp = p.begin(1);
    p.string(1, name);
    p.string(2, e.labels[name]);
    p.end(lp);
  }
  p.double(2, e.value);
  if (e.timestampMs !== undefined) p.timestamp(3, e.timestampMs);
  p.end(at);
}

/** Native buckets' spans and absolute counts as metrics.proto's spans and deltas. */
function writeNativeBuckets(
  p: Proto,
  spanField: number,
  deltaField: number,
  spans: NativeHistogramData["positiveSpans"],
  counts: readonly number[],
): void {
  for (const s of spans) {
    const at = p.begin(spanField);
    p.sint(1, s.offset);
    p.uint(2, s.length);
    p.end(at);
  }
  let prev = 0;
  for (const c of counts) {
    p.sint(deltaField, c - prev);
    prev = c;
  }
}

/**
 * Buckets from which a classic histogram's message surely takes 128 bytes or more (13
 * bytes a bucket at least, 11 for its count and sum): its length, and its Metric's, is
 * given two bytes from the start rather than one moved afterwards, which copied each
 * histogram once more (twice with its Metric).
 */
const longHistogramBuckets = 9;

function writeHistogram(p: Proto, m: HistogramMetric, room: number): void {
  const at = p.begin(7, room);
  p.uint(1, m.count);
  p.double(2, m.sum);
  const exemplars = m.bucketExemplars;
  let inf = false;
  const buckets = m.buckets, w = p.w;
  for (let i = 0; i < buckets.length; i++) {
    const le = buckets[i][0], c = buckets[i][1];
    const e = exemplars?.[i];
    inf ||= le === Infinity;
    if (e === undefined && c >= 0 && c < 0x80000000 && Number.isInteger(c) && le === le) {
      // The common bucket, written in one go: Bucket{cumulative_count: c, upper_bound: le}
      // is tag, length, 0x08, varint c, 0x11, 8 bytes; what p.begin/uint/double/end write.
      const size = c < 0x80 ? 1 : c < 0x4000 ? 2 : c < 0x200000 ? 3 : c < 0x10000000 ? 4 : 5;
      w.reserve(13 + size);
      const buf = w.buf;
      let pos = w.pos;
      buf[pos++] = 0x1a; // field 3, LEN
      buf[pos++] = 10 + size;
      buf[pos++] = 0x08; // field 1, VARINT
      let u = c;
      while (u >= 0x80) {
        buf[pos++] = (u & 0x7f) | 0x80;
        u >>>= 7;
      }
      buf[pos++] = u;
      buf[pos++] = 0x11; // field 2, I64
      w.view.setFloat64(pos, le, true);
      w.pos = pos + 8;
      continue;
    }
    const b = p.begin(3);
    p.uint(1, c);
    p.double(2, le);
    if (e !== undefined) writeExemplar(p, 3, e);
    p.end(b);
  }
  // As Go's const histogram: the +Inf bucket is written only to carry its exemplar.
  const infExemplar = exemplars?.[m.buckets.length];
  if (!inf && infExemplar !== undefined) {
    const b = p.begin(3);
    p.uint(1, m.count);
    p.double(2, Infinity);
    writeExemplar(p, 3, infExemplar);
    p.end(b);
  }
  const n = m.native;
  if (n) {
    p.sint(5, n.schema);
    p.double(6, n.zeroThreshold);
    p.uint(7, n.zeroCount);
    writeNativeBuckets(p, 9, 10, n.negativeSpans, n.negativeCounts);
    // A native histogram without any bucket gets an empty span, as client_golang
    // writes it, so that a scraper does not take it for a classic one.
    const empty = n.zeroThreshold === 0 && n.zeroCount === 0 && n.positiveSpans.length === 0 &&
      n.negativeSpans.length === 0;
    writeNativeBuckets(p, 12, 13, empty ? [{ offset: 0, length: 0 }] : n.positiveSpans, n.positiveCounts);
  }
  if (m.createdTimestampMs !== undefined) p.timestamp(15, m.createdTimestampMs);
  if (n?.exemplars) { for (const e of n.exemplars) writeExemplar(p, 16, e); }
  p.end(at, room);
}

function writeSummary(p: Proto, m: SummaryMetric): void {
  const at = p.begin(4);
  p.uint(1, m.count);
  p.double(2, m.sum);
  for (const [q, v] of m.quantiles) {
    const qa = p.begin(3);
    p.double(1, q);
    p.double(2, v);
    p.end(qa);
  }
  if (m.createdTimestampMs !== undefined) p.timestamp(4, m.createdTimestampMs);
  p.end(at);
}

function writeMetric(p: Proto, m: Metric, t: LabelTemplate): void {
  const room = m.type === "histogram" && m.buckets.length >= longHistogramBuckets ? 2 : 1;
  const at = p.begin(4, room);
  // One read of the values array per series: labelValueAt per label cost more.
  writeLabels(p, t, m.labelValues, 0);
  switch (m.type) {
    case "gauge":
    case "untyped": {
      const v = p.begin(m.type === "gauge" ? 2 : 5);
      p.double(1, m.value);
      p.end(v);
      break;
    }
    case "counter": {
      const v = p.begin(3);
      p.double(1, m.value);
      if (m.exemplar !== undefined) writeExemplar(p, 2, m.exemplar);
      if (m.createdTimestampMs !== undefined) p.timestamp(3, m.createdTimestampMs);
      p.end(v);
      break;
    }
    case "summary":
      writeSummary(p, m);
      break;
  }
  if (m.timestampMs !== undefined) {
    p.tag(6, VARINT);
    p.varint(Math.trunc(m.timestampMs));
  }
  if (m.type === "histogram") writeHistogram(p, m, room);
  p.end(at, room);
}

/** Series written between two steps. */
const seriesPerStep = 2048;

/**
 * Writes families as length-delimited `io.prometheus.client.MetricFamily` messages,
 * pausing (yielding) every few thousand series and after each family, as
 * `encodeSteps` does for the text formats. Names beyond the legacy grammar are
 * escaped with `escaping` (default `underscores`), never quoted: the protobuf
 * exposition carries any UTF-8 under `allow-utf-8`.
 */
export function* protobufSteps(
  w: ByteWriter,
  families: readonly MetricFamily[],
  escaping: EscapingScheme = defaultEscaping,
): Generator<void, void, undefined> {
  const p = new Proto(w);
  for (const f of families) {
    const column = f instanceof ColumnFamily ? f : undefined;
    column?.check();
    const n = familySize(f);
    // The length prefix of a delimited message is a bare varint, without a tag:
    // keep one byte for it and move the message if it needs more (see Proto.end).
    w.reserve(1);
    const at = w.pos++;
    p.string(1, escapeNameIfNeeded(f.name, escaping));
    p.string(2, f.help);
    p.uint(3, metricTypes[f.type]);
    for (let from = 0; from < n; from += seriesPerStep) {
      const to = Math.min(n, from + seriesPerStep);
      const start = w.pos;
      if (column) columnMetrics(p, column, escaping, from, to);
      else {
        let desc: Desc | undefined, t: LabelTemplate | undefined;
        const metrics = f.metrics;
        for (let i = from; i < to; i++) {
          const m = metrics[i];
          if (m.type === "invalid") continue; // never gathered: the registry drops its family
          if (m.desc !== desc) t = labelTemplate(desc = m.desc, escaping);
          writeMetric(p, m, t!);
        }
      }
      if (to < n) {
        if (from === 0) reserveFor(w, (w.pos - start) / to, n - to);
        yield;
      }
    }
    if (f.desc.unit !== "") p.string(5, f.desc.unit);
    p.end(at);
    yield;
  }
}

/** Series of a family kept in a column (const counters, gauges, untyped): the hot path. */
function columnMetrics(p: Proto, f: ColumnFamily, escaping: EscapingScheme, from: number, to: number): void {
  const c = f.column, order = f.order;
  const t = labelTemplate(c.desc, escaping);
  const valueField = f.type === "gauge" ? 2 : f.type === "counter" ? 3 : 5;
  const stride = c.stride, labels = c.labels, values = c.values, w = p.w;
  const valueTag = valueField * 8 + LEN;
  const slots = t.slots, prefixes = t.prefixes;
  // The bytes of a gauge's Metric beside its variable label values: its tag and length,
  // each pair's tag, length, name field and value tag and length (or the whole pair of a
  // constant label), and the value field.
  let fixed = 2 + 11;
  for (const slot of slots) fixed += typeof slot === "number" ? 3 + prefixes[slot].length : slot.length;
  for (let k = from; k < to; k++) {
    const i = order ? order[k] : k;
    const base = i * stride;
    const v = values[i];
    if (valueField !== 3 && v === v) {
      // The usual gauge (or untyped), written in one go when it cannot take 128 bytes or
      // more (a UTF-16 unit takes 3 UTF-8 bytes at most): every length is then one byte,
      // filled in once what it measures is written, so each value is read once.
      let need = fixed;
      for (let s = 0; s < slots.length; s++) {
        const slot = slots[s];
        if (typeof slot === "number") need += 3 * labels[base + slot].length;
      }
      if (need < 130) {
        w.reserve(need);
        let buf = w.buf, pos = w.pos;
        buf[pos] = 0x22; // Metric, field 4, LEN
        const at = pos + 1;
        pos += 2;
        for (let s = 0; s < slots.length; s++) {
          const slot = slots[s];
          if (typeof slot !== "number") {
            for (let b = 0; b < slot.length; b++) buf[pos++] = slot[b];
            continue;
          }
          const prefix = prefixes[slot], value = labels[base + slot];
          buf[pos++] = 0x0a; // LabelPair, field 1, LEN
          const pairAt = pos++;
          for (let b = 0; b < prefix.length; b++) buf[pos++] = prefix[b];
          const valueAt = pos++;
          let x = 0;
          for (; x < value.length; x++) {
            const ch = value.charCodeAt(x);
            if (ch >= 0x80) break;
            buf[pos++] = ch;
          }
          if (x < value.length) {
            w.pos = pos;
            w.text(value.slice(x));
            buf = w.buf;
            pos = w.pos;
          }
          buf[valueAt] = pos - valueAt - 1;
          buf[pairAt] = pos - pairAt - 1;
        }
        // Gauge{value} or Untyped{value}: tag, length 9, the double's tag and its 8 bytes.
        buf[pos++] = valueTag;
        buf[pos++] = 9;
        buf[pos++] = 0x09; // field 1, I64
        w.view.setFloat64(pos, v, true);
        pos += 8;
        buf[at] = pos - at - 1;
        w.pos = pos;
        continue;
      }
    }
    // Metric, field 4: its tag and a byte kept for its length (p.begin's, inline).
    w.reserve(2);
    w.buf[w.pos] = 0x22;
    const at = w.pos + 1;
    w.pos += 2;
    writeLabels(p, t, labels, base);
    if (valueField !== 3) {
      // Gauge{value} or Untyped{value}: tag, length 9, the double's tag and its 8 bytes
      // (a NaN as p.double writes it).
      if (v === v) {
        w.reserve(11);
        const buf = w.buf;
        let pos = w.pos;
        buf[pos++] = valueTag;
        buf[pos++] = 9;
        buf[pos++] = 0x09; // field 1, I64
        w.view.setFloat64(pos, v, true);
        w.pos = pos + 8;
      } else {
        p.tag(valueField, LEN);
        w.reserve(1);
        w.buf[w.pos++] = 9;
        p.double(1, v);
      }
      p.end(at);
      continue;
    }
    // A counter with state: its exemplar and created timestamp, as writeMetric.
    const vf = p.begin(valueField);
    p.double(1, v);
    const e = c.exemplars?.[i];
    if (e !== undefined) writeExemplar(p, 2, e);
    const created = c.createdAt(i);
    if (created !== undefined) p.timestamp(3, created);
    p.end(vf);
    p.end(at);
  }
}
