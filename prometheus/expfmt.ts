import {
  ByteWriter,
  escapeHelpText,
  escapeLabelValue,
  formatOpenMetricsFloat,
  formatValue,
  reserveFor,
  shortDecimal,
  utf8,
  wordsOf,
} from "./_bytes.ts";

export { escapeHelpText, escapeLabelValue, formatOpenMetricsFloat, formatValue } from "./_bytes.ts";
import type { Desc } from "./desc.ts";
import { defaultEscaping, escapeNameIfNeeded, type EscapingScheme, isLegacyName } from "./escaping.ts";
import { protobufSteps } from "./protobuf.ts";
import type { MetricFamily } from "./registry.ts";
import { ColumnFamily, familySize } from "./_family.ts";
import { sliceMs, yieldToEventLoop } from "./_turns.ts";
import { type Exemplar, type HistogramMetric, labelValueAt, type Metric, type SummaryMetric } from "./value.ts";

/** The exposition formats the encoders write. */
export type Format = "text" | "openmetrics-1.0.0" | "openmetrics-0.0.1" | "protobuf";

/** The Content-Type of each format, without its `escaping=` parameter. */
export const contentTypes: Readonly<Record<Format, string>> = {
  "text": "text/plain; version=0.0.4; charset=utf-8",
  "openmetrics-1.0.0": "application/openmetrics-text; version=1.0.0; charset=utf-8",
  "openmetrics-0.0.1": "application/openmetrics-text; version=0.0.1; charset=utf-8",
  "protobuf": "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited",
};

/**
 * The Content-Type of a response, as client_golang sends it: the format's, then the
 * escaping scheme the names were written with (`; escaping=underscores`).
 */
export function contentType(format: Format, escaping: EscapingScheme): string {
  return `${contentTypes[format]}; escaping=${escaping}`;
}

/** How the encoders write what the format leaves open. */
export interface EncodeOpts {
  /**
   * How names beyond the legacy grammar are written (see `EscapingScheme`); defaults
   * to `underscores`, as prometheus/common's encoder for a format without `escaping=`.
   */
  readonly escaping?: EscapingScheme;
  /**
   * Write `_created` lines in OpenMetrics for series with a created timestamp, as
   * client_golang's `EnableOpenMetricsTextCreatedSamples` (prometheus/common's
   * `WithCreatedLines`). Off by default, as there.
   */
  readonly createdLines?: boolean;
}

/** Series written between two steps of {@linkcode encodeSteps}. */
const seriesPerStep = 2048;

/** A name as prometheus/common's writeName writes it: bare when legacy, else quoted. */
function writeName(w: ByteWriter, name: string): void {
  if (isLegacyName(name)) w.escaped(name, false);
  else {
    w.ascii('"');
    w.escaped(name, true);
    w.ascii('"');
  }
}

/**
 * Writes families in the given format to `w` (protobuf: see `protobufSteps`),
 * pausing (yielding) every few thousand series and after each family, so that a
 * caller can hand out chunks or let the event loop run between steps.
 */
export function* encodeSteps(
  w: ByteWriter,
  families: readonly MetricFamily[],
  format: Format,
  opts: EncodeOpts = {},
): Generator<void, void, undefined> {
  if (format === "protobuf") {
    yield* protobufSteps(w, families, opts.escaping);
    return;
  }
  const om = format !== "text";
  const scheme = opts.escaping ?? defaultEscaping;
  const created = om && (opts.createdLines ?? false);
  const ctx: Context = { w, om, scheme, created };
  for (const f of families) {
    const column = f instanceof ColumnFamily ? f : undefined;
    column?.check();
    const n = familySize(f);
    const head = familyHead(f, om, scheme);
    w.bytes(head.bytes);
    const name = head.name;
    for (let from = 0; from < n; from += seriesPerStep) {
      const to = Math.min(n, from + seriesPerStep);
      const start = w.pos;
      if (column) columnSamples(ctx, column, name, from, to);
      else samples(ctx, f, name, from, to);
      if (to < n) {
        if (from === 0) reserveFor(w, (w.pos - start) / to, n - to);
        yield;
      }
    }
    yield;
  }
  if (om) w.ascii("# EOF\n");
}

/** What every sample line of one encoding needs. */
interface Context {
  readonly w: ByteWriter;
  readonly om: boolean;
  readonly scheme: EscapingScheme;
  readonly created: boolean;
}

/** Series in `families`, counted without making metric objects. */
export function seriesCount(families: readonly MetricFamily[]): number {
  let n = 0;
  for (const f of families) n += familySize(f);
  return n;
}

/**
 * Encodes families into `buffer`, letting the event loop run after every
 * {@linkcode sliceMs} of work, and returns a view of the bytes written. When `buffer`
 * is too small, a larger one is made: the view is then of that one.
 */
export async function encodeSliced(
  families: readonly MetricFamily[],
  format: Format,
  buffer: Uint8Array,
  opts: EncodeOpts = {},
): Promise<Uint8Array> {
  const w = new ByteWriter(buffer);
  let sliceStart = performance.now();
  for (const _ of encodeSteps(w, families, format, opts)) {
    if (performance.now() - sliceStart > sliceMs) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
  }
  return w.written();
}

/**
 * Encodes families in one buffer: UTF-8 text, or delimited protobuf messages. Into
 * `buffer` when given (one kept from an earlier encoding: no allocation, no zeroing),
 * else a new one; the bytes returned are a view of it, or of a larger one when it was
 * too small.
 */
export function encodeBytes(
  families: readonly MetricFamily[],
  format: Format = "text",
  opts: EncodeOpts = {},
  buffer?: Uint8Array,
): Uint8Array {
  const w = new ByteWriter(buffer);
  for (const _ of encodeSteps(w, families, format, opts));
  return w.written();
}

/**
 * Encodes families as one string in the given text format (not protobuf), as prometheus/common's
 * `expfmt.NewEncoder` with that format: names beyond the legacy grammar escaped with
 * `underscores` unless `opts.escaping` says otherwise.
 *
 * @example
 * ```ts
 * const { families } = await registry.gather();
 * console.log(encode(families, "openmetrics-1.0.0", { escaping: "allow-utf-8" }));
 * ```
 */
export function encode(families: readonly MetricFamily[], format: Format = "text", opts: EncodeOpts = {}): string {
  return new TextDecoder().decode(encodeBytes(families, format, opts));
}

/**
 * How the series of one Desc are written under one sample name: the bytes before the
 * first label value, between values, and after the last, so a series costs its label
 * values and its number, nothing else. Built once per Desc, sample name and escaping
 * scheme. A name beyond the legacy grammar (only under allow-utf-8) goes inside the
 * braces, quoted: `{"http.server.duration",le="0.1"}`.
 */
class Template {
  readonly open: Uint8Array;
  readonly mids: Uint8Array[];
  readonly close: Uint8Array;
  readonly order: readonly number[];
  /** {@linkcode open}, {@linkcode mids} and {@linkcode close} four bytes at a time (see `wordsOf`). */
  readonly openWords: Int32Array;
  readonly midWords: Int32Array[];
  readonly closeWords: Int32Array;
  readonly #last: string;
  readonly #braces: boolean;

  constructor(name: string, desc: Desc, scheme: EscapingScheme) {
    const segs = desc._segmentsFor(scheme);
    const n = desc._order.length;
    this.order = desc._order;
    const hasLabels = !(n === 0 && segs[0] === "");
    const quoted = !isLegacyName(name);
    this.#braces = hasLabels || quoted;
    const written = quoted ? `{"${escapeLabelValue(name)}"` : name;
    this.open = utf8(hasLabels ? `${written}${quoted ? "," : "{"}${segs[0]}` : written);
    this.mids = segs.slice(1, Math.max(1, n)).map(utf8);
    this.#last = n === 0 ? "" : segs[n];
    this.close = utf8(this.#braces ? `${this.#last}} ` : " ");
    this.openWords = wordsOf(this.open);
    this.midWords = this.mids.map(wordsOf);
    this.closeWords = wordsOf(this.close);
  }

  readonly #bounds = [new Map<number, Uint8Array>(), new Map<number, Uint8Array>()];

  /**
   * The bytes that end the labels with `label="bound"` and the closing brace, e.g.
   * `",le="0.25"} `, for a bucket's or quantile's bound in the text format or
   * OpenMetrics: a histogram's bounds are the same for all its series, so each is
   * formatted once, not once per bucket line.
   */
  bound(label: string, v: number, om: boolean): Uint8Array {
    const cache = this.#bounds[om ? 1 : 0];
    let b = cache.get(v);
    if (b === undefined) {
      b = utf8(
        `${this.#last}${this.#braces ? "," : "{"}${label}="${om ? formatOpenMetricsFloat(v) : formatValue(v)}"} `,
      );
      // Bounds that change from scrape to scrape (const histograms made so) are not kept.
      if (cache.size < maxBoundsPerTemplate) cache.set(v, b);
    }
    return b;
  }
}

const maxBoundsPerTemplate = 256;

/** Templates by Desc, then by escaping scheme and sample name; Descs live as long as their collectors. */
const templates = new WeakMap<Desc, Map<string, Template>>();

function template(name: string, desc: Desc, scheme: EscapingScheme): Template {
  let byName = templates.get(desc);
  if (!byName) templates.set(desc, byName = new Map());
  const key = scheme === "allow-utf-8" || desc._legacyLabels ? name : `${scheme}\u0000${name}`;
  let t = byName.get(key);
  if (!t) byName.set(key, t = new Template(name, desc, scheme));
  return t;
}

/** Writes `name{labels} `, ready for the number. */
function writeSeriesStart(w: ByteWriter, t: Template, m: Metric): void {
  openSeries(w, t, m);
  w.bytes(t.close);
}

/**
 * Writes `name{` and the label values of `m` with their separators, not what ends
 * the label set; returns where the label values began, so that the series' other
 * lines (a histogram's buckets, sum and count) copy them rather than escape them again.
 */
function openSeries(w: ByteWriter, t: Template, m: Metric): number {
  w.bytes(t.open);
  const from = w.pos;
  const order = t.order;
  for (let k = 0; k < order.length; k++) {
    if (k > 0) w.bytes(t.mids[k - 1]);
    w.escaped(labelValueAt(m, order[k]), true);
  }
  return from;
}

/**
 * Writes `name{` of `t` and a copy of the label values written at `from`..`to` by
 * {@linkcode openSeries} for another template of the same Desc and scheme (whose
 * separators are the same).
 */
function reopenSeries(w: ByteWriter, t: Template, from: number, to: number): void {
  w.bytes(t.open);
  const n = to - from;
  w.reserve(n);
  const buf = w.buf, pos = w.pos;
  if (n > 64) buf.copyWithin(pos, from, to);
  else for (let i = 0; i < n; i++) buf[pos + i] = buf[from + i];
  w.pos = pos + n;
}

/** A name as {@linkcode writeName} writes it, as a string. */
function nameText(name: string): string {
  return isLegacyName(name) ? name : `"${escapeLabelValue(name)}"`;
}

/**
 * The `# HELP` and `# TYPE` lines as a string: a family's head is made from strings and
 * encoded at once (TextEncoder), not byte by byte, as it is made on the first scrape,
 * while the encoders' code still runs cold (interpreted): byte loops there cost ~30 µs
 * a family on Bun, most of a first default scrape's encoding.
 */
function headerText(name: string, help: string, type: string, om: boolean): string {
  const written = nameText(name);
  return `# HELP ${written} ${om ? escapeLabelValue(help) : escapeHelpText(help)}\n# TYPE ${written} ${type}\n`;
}

/**
 * What a family's sample lines start from, written once per Desc, format and
 * escaping scheme rather than on every scrape: its name as the scheme writes it, and
 * the bytes of its `# HELP`, `# TYPE` (and `# UNIT`) lines. Writing these from strings
 * was the largest part of encoding a default scrape (26 families, a few series each).
 */
class FamilyHead {
  constructor(
    readonly family: string,
    readonly help: string,
    readonly type: string,
    readonly om: boolean,
    readonly scheme: EscapingScheme,
    /** The family's name as `scheme` writes it. */
    readonly name: string,
    readonly bytes: Uint8Array,
  ) {}
}

/** Heads by Desc (a family's is its first series'); a few per Desc at most. */
const heads = new WeakMap<Desc, FamilyHead[]>();
const headsPerDesc = 8;

function familyHead(f: MetricFamily, om: boolean, scheme: EscapingScheme): FamilyHead {
  let list = heads.get(f.desc);
  if (list === undefined) heads.set(f.desc, list = []);
  for (let i = 0; i < list.length; i++) {
    const h = list[i];
    // A family's name, help and type are its Desc's, unless a Gatherer of its own
    // made it otherwise: compared, so that such a family gets heads of its own.
    if (h.om === om && h.scheme === scheme && h.family === f.name && h.help === f.help && h.type === f.type) return h;
  }
  // As prometheus/common's EscapeMetricFamily: only names beyond the legacy grammar
  // are escaped, and not at all under allow-utf-8 (then they are quoted).
  const name = escapeNameIfNeeded(f.name, scheme);
  let text: string;
  if (om) {
    // As prometheus/common's OpenMetrics encoder: a counter family named `x_total`
    // is announced as `x` and its samples keep `x_total`; a counter without the
    // suffix is typed `unknown` under its own name, so that no series is renamed.
    const counter = f.type === "counter", total = counter && name.endsWith("_total");
    const type = counter ? (total ? "counter" : "unknown") : f.type === "untyped" ? "unknown" : f.type;
    const announced = total ? name.slice(0, -"_total".length) : name;
    text = headerText(announced, f.help, type, true);
    if (f.desc.unit !== "") text += `# UNIT ${nameText(announced)} ${escapeLabelValue(f.desc.unit)}\n`;
  } else {
    text = headerText(name, f.help, f.type, false);
  }
  const h = new FamilyHead(f.name, f.help, f.type, om, scheme, name, utf8(text));
  if (list.length >= headsPerDesc) list.shift();
  list.push(h);
  return h;
}

/** The sample lines of series `from` to `to` of a family, under its (escaped) `name`. */
function samples(ctx: Context, f: MetricFamily, name: string, from: number, to: number): void {
  const { w, om, scheme } = ctx;
  let desc: Desc | undefined;
  let t: Template | undefined;
  // A histogram's or summary's templates, looked up when the Desc changes.
  let parts: Parts | undefined;
  const metrics = f.metrics;
  for (let i = from; i < to; i++) {
    const m = metrics[i];
    switch (m.type) {
      case "histogram": {
        if (parts?.desc !== m.desc) parts = partsOf(name, m.desc, scheme, "_bucket");
        const bucket = parts.first;
        let inf = false;
        const exemplars = om ? m.bucketExemplars : undefined;
        const buckets = m.buckets;
        const labelsFrom = openSeries(w, bucket, m), labelsTo = w.pos;
        for (let b = 0; b < buckets.length; b++) {
          const [le, c] = buckets[b];
          if (b > 0) reopenSeries(w, bucket, labelsFrom, labelsTo);
          w.bytes(bucket.bound("le", le, om));
          count(w, c, om);
          end(ctx, m, exemplars?.[b]);
          inf ||= le === Infinity;
        }
        if (!inf) {
          if (buckets.length > 0) reopenSeries(w, bucket, labelsFrom, labelsTo);
          w.bytes(bucket.bound("le", Infinity, om));
          count(w, m.count, om);
          end(ctx, m, exemplars?.[buckets.length]);
        }
        sumAndCount(ctx, parts, m, labelsFrom, labelsTo);
        created(ctx, name, m);
        break;
      }
      case "summary": {
        if (parts?.desc !== m.desc) parts = partsOf(name, m.desc, scheme, "");
        const quantile = parts.first;
        const quantiles = m.quantiles;
        let labelsFrom = -1, labelsTo = -1;
        for (let q = 0; q < quantiles.length; q++) {
          if (q === 0) {
            labelsFrom = openSeries(w, quantile, m);
            labelsTo = w.pos;
          } else reopenSeries(w, quantile, labelsFrom, labelsTo);
          w.bytes(quantile.bound("quantile", quantiles[q][0], om));
          float(w, quantiles[q][1], om);
          end(ctx, m, undefined);
        }
        sumAndCount(ctx, parts, m, labelsFrom, labelsTo);
        created(ctx, name, m);
        break;
      }
      case "invalid": // never gathered: the registry drops its family
        break;
      default:
        // The hot path at high cardinality: one template per Desc, no strings built.
        if (m.desc !== desc) {
          desc = m.desc;
          t = template(name, desc, scheme);
        }
        writeSeriesStart(w, t!, m);
        float(w, m.value, om);
        if (m.timestampMs === undefined && m.exemplar === undefined) w.bytes(newline);
        else end(ctx, m, m.type === "counter" ? m.exemplar : undefined);
        // prometheus/common writes `_created` for counters only among single values,
        // named from the counter's name without `_total`.
        if (ctx.created && m.type === "counter") {
          created(ctx, name.endsWith("_total") ? name.slice(0, -"_total".length) : name, m);
        }
    }
  }
}

const newline = utf8("\n");

/**
 * Ends a sample line: the series' timestamp (milliseconds in the text format, seconds
 * as a float in OpenMetrics), an exemplar (OpenMetrics only), the newline.
 */
function end(ctx: Context, m: Metric, exemplar: Exemplar | undefined): void {
  const w = ctx.w;
  if (m.timestampMs !== undefined) {
    w.ascii(" ");
    if (ctx.om) w.numberOM(m.timestampMs / 1000);
    else w.integer(m.timestampMs);
  }
  if (ctx.om && exemplar !== undefined) writeExemplar(w, exemplar);
  w.bytes(newline);
}

/** ` # {trace_id="…"} 1.0 1234.567`, as prometheus/common's writeExemplar; none without labels. */
function writeExemplar(w: ByteWriter, e: Exemplar): void {
  const names = Object.keys(e.labels).sort();
  if (names.length === 0) return;
  w.ascii(" # {");
  names.forEach((n, i) => {
    if (i > 0) w.ascii(",");
    writeName(w, n);
    w.ascii('="');
    w.escaped(e.labels[n], true);
    w.ascii('"');
  });
  w.ascii("} ");
  w.numberOM(e.value);
  if (e.timestampMs !== undefined) {
    w.ascii(" ");
    w.numberOM(goSeconds(e.timestampMs));
  }
}

/**
 * Milliseconds since the epoch as the float seconds prometheus/common writes for
 * exemplar and created timestamps: `float64(ts.UnixNano()) / 1e9`, whose rounding
 * (nanoseconds to float64, then the division) can differ in the last digit from
 * `ms / 1000`.
 */
export function goSeconds(ms: number): number {
  const whole = Math.floor(ms);
  const nanos = BigInt(whole) * 1000000n + BigInt(Math.round((ms - whole) * 1e6));
  return Number(nanos) / 1e9;
}

/** The `_created` line of a counter, histogram or summary, when asked for and known. */
function created(ctx: Context, base: string, m: Metric): void {
  if (!ctx.created || m.createdTimestampMs === undefined) return;
  const w = ctx.w;
  writeSeriesStart(w, template(base + "_created", m.desc, ctx.scheme), m);
  w.numberOM(goSeconds(m.createdTimestampMs));
  w.bytes(newline);
}

/** Series `from` to `to` of a family kept in a column: the hot path at high cardinality. */
function columnSamples(ctx: Context, f: ColumnFamily, name: string, from: number, to: number): void {
  const { w, om } = ctx;
  const c = f.column, order = f.order;
  const t = template(name, c.desc, ctx.scheme);
  const labelOrder = t.order, stride = c.stride, labels = c.labels, values = c.values;
  // Counters with state carry exemplars (OpenMetrics) and created timestamps (`_created`
  // lines when asked for), as samples() writes them for metric objects.
  const counter = f.type === "counter";
  const exemplars = om && counter ? c.exemplars : undefined;
  const created = ctx.created && counter && c.created !== undefined
    ? template(
      name.endsWith("_total") ? name.slice(0, -"_total".length) + "_created" : name + "_created",
      c.desc,
      ctx.scheme,
    )
    : undefined;
  if (exemplars === undefined && created === undefined) {
    plainColumnSamples(w, t, om, f, from, to);
    return;
  }
  for (let k = from; k < to; k++) {
    const i = order ? order[k] : k;
    const at = i * stride;
    w.bytes(t.open);
    const labelsFrom = w.pos;
    for (let j = 0; j < labelOrder.length; j++) {
      if (j > 0) w.bytes(t.mids[j - 1]);
      w.escaped(labels[at + labelOrder[j]], true);
    }
    const labelsTo = w.pos;
    w.bytes(t.close);
    if (om) w.numberOM(values[i]);
    else w.number(values[i]);
    const e = exemplars?.[i];
    if (e !== undefined) writeExemplar(w, e);
    w.bytes(newline);
    const ts = created && c.createdAt(i);
    if (created && ts !== undefined) {
      reopenSeries(w, created, labelsFrom, labelsTo);
      w.bytes(created.close);
      w.numberOM(goSeconds(ts));
      w.bytes(newline);
    }
  }
}

/**
 * {@linkcode columnSamples} without exemplars and `_created` lines, the usual case (every
 * gauge, any counter in the text format), and the hot path of a large scrape: room for
 * the whole line is made once, then the template's bytes and the label values (plain
 * ASCII copied here, anything to escape or encode by `ByteWriter.escaped`) are written
 * straight into the buffer. Through the writer's methods, each reserving room and
 * writing back its position, a line cost ~10 % more on Bun and Deno.
 */
function plainColumnSamples(w: ByteWriter, t: Template, om: boolean, f: ColumnFamily, from: number, to: number): void {
  const c = f.column, order = f.order;
  const labelOrder = t.order, stride = c.stride, labels = c.labels, values = c.values;
  const open = t.open, mids = t.mids, close = t.close;
  const openWords = t.openWords, midWords = t.midWords, closeWords = t.closeWords;
  let fixed = open.length + close.length;
  for (const m of mids) fixed += m.length;
  const nl = labelOrder.length;
  for (let k = from; k < to; k++) {
    const i = order ? order[k] : k;
    const at = i * stride;
    // A UTF-16 unit takes 3 bytes at most, escaped or encoded.
    // And the number's room and the newline's (ByteWriter.number writes at most 24 bytes
    // into the 32 it makes room for).
    let need = fixed + 33;
    for (let j = 0; j < nl; j++) need += labels[at + labelOrder[j]].length * 3;
    w.reserve(need);
    let buf = w.buf, view = w.view, pos = w.pos;
    for (let q = 0; q < openWords.length; q++, pos += 4) view.setInt32(pos, openWords[q], true);
    for (let b = openWords.length * 4; b < open.length; b++) buf[pos++] = open[b];
    for (let j = 0; j < nl; j++) {
      if (j > 0) {
        const mid = mids[j - 1], words = midWords[j - 1];
        for (let q = 0; q < words.length; q++, pos += 4) view.setInt32(pos, words[q], true);
        for (let b = words.length * 4; b < mid.length; b++) buf[pos++] = mid[b];
      }
      const s = labels[at + labelOrder[j]];
      let x = 0;
      for (; x < s.length; x++) {
        const ch = s.charCodeAt(x);
        if (ch >= 0x80 || ch === 0x5c || ch === 0x0a || ch === 0x22) break;
        buf[pos++] = ch;
      }
      if (x < s.length) {
        w.pos = pos;
        w.escaped(s.slice(x), true);
        buf = w.buf;
        view = w.view;
        pos = w.pos;
      }
    }
    for (let q = 0; q < closeWords.length; q++, pos += 4) view.setInt32(pos, closeWords[q], true);
    for (let b = closeWords.length * 4; b < close.length; b++) buf[pos++] = close[b];
    // The usual value is written here too (the room made above holds it); others, and
    // OpenMetrics' (which may take `.0`), by the writer.
    const end = om ? -1 : shortDecimal(buf, pos, values[i]);
    if (end >= 0) {
      buf[end] = 0x0a; // \n
      w.pos = end + 1;
      continue;
    }
    w.pos = pos;
    if (om) w.numberOM(values[i]);
    else w.number(values[i]);
    w.buf[w.pos++] = 0x0a; // \n
  }
}

/** A float sample value: Go's text form, or OpenMetrics' (`1.0`). */
function float(w: ByteWriter, v: number, om: boolean): void {
  if (om) w.numberOM(v);
  else w.number(v);
}

/** A count: a float in the text format (Go writes `float64(count)`), an integer in OpenMetrics. */
function count(w: ByteWriter, v: number, om: boolean): void {
  if (om) w.integer(v);
  else w.number(v);
}

/** The templates of a histogram's (`_bucket`) or summary's (its name) lines, and of its `_sum` and `_count`. */
interface Parts {
  readonly desc: Desc;
  readonly first: Template;
  readonly sum: Template;
  readonly count: Template;
}

function partsOf(name: string, desc: Desc, scheme: EscapingScheme, firstSuffix: string): Parts {
  return {
    desc,
    first: template(name + firstSuffix, desc, scheme),
    sum: template(name + "_sum", desc, scheme),
    count: template(name + "_count", desc, scheme),
  };
}

/**
 * The `_sum` and `_count` lines of a histogram or summary; the label values are
 * copied from `labelsFrom`..`labelsTo` when its earlier lines wrote them (-1: none did).
 */
function sumAndCount(
  ctx: Context,
  parts: Parts,
  m: HistogramMetric | SummaryMetric,
  labelsFrom: number,
  labelsTo: number,
): void {
  const w = ctx.w;
  if (labelsFrom < 0) {
    labelsFrom = openSeries(w, parts.sum, m);
    labelsTo = w.pos;
  } else reopenSeries(w, parts.sum, labelsFrom, labelsTo);
  w.bytes(parts.sum.close);
  float(w, m.sum, ctx.om);
  end(ctx, m, undefined);
  reopenSeries(w, parts.count, labelsFrom, labelsTo);
  w.bytes(parts.count.close);
  count(w, m.count, ctx.om);
  end(ctx, m, undefined);
}
