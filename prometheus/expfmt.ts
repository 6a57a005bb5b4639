import { ByteWriter, formatOpenMetricsFloat, formatValue, utf8 } from "./_bytes.ts";

export { escapeHelpText, escapeLabelValue, formatOpenMetricsFloat, formatValue } from "./_bytes.ts";
import type { Desc } from "./desc.ts";
import type { MetricFamily } from "./registry.ts";
import { ColumnFamily, familySize } from "./_family.ts";
import { sliceMs, yieldToEventLoop } from "./_turns.ts";
import { labelValueAt, type Metric } from "./value.ts";

/** The exposition formats the encoders write. */
export type Format = "text" | "openmetrics-1.0.0" | "openmetrics-0.0.1";

/** The Content-Type of each format. */
export const contentTypes: Readonly<Record<Format, string>> = {
  "text": "text/plain; version=0.0.4; charset=utf-8",
  "openmetrics-1.0.0": "application/openmetrics-text; version=1.0.0; charset=utf-8",
  "openmetrics-0.0.1": "application/openmetrics-text; version=0.0.1; charset=utf-8",
};

/** Series written between two steps of {@linkcode encodeSteps}. */
const seriesPerStep = 2048;

/**
 * Writes families in the given format to `w`, pausing (yielding) every few thousand
 * series and after each family, so that a caller can hand out chunks or let the event
 * loop run between steps.
 */
export function* encodeSteps(w: ByteWriter, families: readonly MetricFamily[], format: Format): Generator<void, void, undefined> {
  const om = format !== "text";
  for (const f of families) {
    const column = f instanceof ColumnFamily ? f : undefined;
    column?.check();
    const n = familySize(f);
    const name = f.name;
    if (om) {
      // As prometheus/common's OpenMetrics encoder: a counter family named `x_total`
      // is announced as `x` and its samples keep `x_total`; a counter without the
      // suffix is typed `unknown` under its own name, so that no series is renamed.
      const counter = f.type === "counter", total = counter && name.endsWith("_total");
      const type = counter ? (total ? "counter" : "unknown") : f.type === "untyped" ? "unknown" : f.type;
      header(w, total ? name.slice(0, -"_total".length) : name, f.help, type, true);
    } else {
      header(w, name, f.help, f.type, false);
    }
    const valueName = name;
    const bound = om ? formatOpenMetricsFloat : formatValue;
    for (let from = 0; from < n; from += seriesPerStep) {
      const to = Math.min(n, from + seriesPerStep);
      if (column) columnSamples(w, column, valueName, om, from, to);
      else samples(w, f, name, valueName, om, bound, from, to);
      if (from + seriesPerStep < n) yield;
    }
    yield;
  }
  if (om) w.ascii("# EOF\n");
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
export async function encodeSliced(families: readonly MetricFamily[], format: Format, buffer: Uint8Array): Promise<Uint8Array> {
  const w = new ByteWriter(buffer);
  let sliceStart = performance.now();
  for (const _ of encodeSteps(w, families, format)) {
    if (performance.now() - sliceStart > sliceMs) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
  }
  return w.written();
}

/** Encodes families as UTF-8 bytes in one buffer. */
export function encodeBytes(families: readonly MetricFamily[], format: Format = "text"): Uint8Array {
  const w = new ByteWriter();
  for (const _ of encodeSteps(w, families, format));
  return w.written();
}


/** Encodes families as one string in the given format. */
export function encode(families: readonly MetricFamily[], format: Format = "text"): string {
  return new TextDecoder().decode(encodeBytes(families, format));
}

/**
 * How the series of one Desc are written under one sample name: the bytes before the
 * first label value, between values, and after the last, so a series costs its label
 * values and its number, nothing else. Built once per Desc and sample name.
 */
class Template {
  readonly open: Uint8Array;
  readonly mids: Uint8Array[];
  readonly close: Uint8Array;
  readonly order: readonly number[];
  readonly #last: string;
  readonly #hasLabels: boolean;
  readonly #extra = new Map<string, Uint8Array>();

  constructor(name: string, desc: Desc) {
    const segs = desc._segments;
    const n = desc._order.length;
    this.order = desc._order;
    this.#hasLabels = !(n === 0 && segs[0] === "");
    this.open = utf8(this.#hasLabels ? `${name}{${segs[0]}` : name);
    this.mids = segs.slice(1, Math.max(1, n)).map(utf8);
    this.#last = n === 0 ? "" : segs[n];
    this.close = utf8(this.#hasLabels ? `${this.#last}} ` : " ");
  }

  /** The bytes that end the labels and open an extra label, e.g. `",le="`. */
  extra(label: string): Uint8Array {
    let b = this.#extra.get(label);
    if (!b) this.#extra.set(label, b = utf8(`${this.#last}${this.#hasLabels ? "," : "{"}${label}="`));
    return b;
  }
}

/** Templates by Desc, then by sample name; Descs live as long as their collectors. */
const templates = new WeakMap<Desc, Map<string, Template>>();

function template(name: string, desc: Desc): Template {
  let byName = templates.get(desc);
  if (!byName) templates.set(desc, byName = new Map());
  let t = byName.get(name);
  if (!t) byName.set(name, t = new Template(name, desc));
  return t;
}

const closeExtra = utf8(`"} `);

/** Writes `name{labels} ` or `name{labels,extra="value"} `, ready for the number. */
function writeSeriesStart(w: ByteWriter, t: Template, m: Metric, extraLabel?: string, extraValue?: string): void {
  w.bytes(t.open);
  const order = t.order;
  for (let k = 0; k < order.length; k++) {
    if (k > 0) w.bytes(t.mids[k - 1]);
    w.escaped(labelValueAt(m, order[k]), true);
  }
  if (extraLabel === undefined) {
    w.bytes(t.close);
  } else {
    w.bytes(t.extra(extraLabel));
    w.ascii(extraValue!);
    w.bytes(closeExtra);
  }
}

function header(w: ByteWriter, name: string, help: string, type: string, om: boolean): void {
  w.ascii(`# HELP ${name} `);
  w.escaped(help, om);
  w.ascii(`\n# TYPE ${name} ${type}\n`);
}

/**
 * The sample lines of series `from` to `to` of a family. `valueName` names
 * single-value samples; `bound` formats `le` and `quantile` values, which OpenMetrics
 * wants in canonical form.
 */
function samples(
  w: ByteWriter,
  f: MetricFamily,
  name: string,
  valueName: string,
  om: boolean,
  bound: (v: number) => string,
  from: number,
  to: number,
): void {
  let desc: Desc | undefined;
  let t: Template | undefined;
  const metrics = f.metrics;
  for (let i = from; i < to; i++) {
    const m = metrics[i];
    switch (m.type) {
      case "histogram": {
        let inf = false;
        const bucket = template(name + "_bucket", m.desc);
        for (const [le, c] of m.buckets) {
          writeSeriesStart(w, bucket, m, "le", bound(le));
          count(w, c, om);
          w.ascii("\n");
          inf ||= le === Infinity;
        }
        if (!inf) {
          writeSeriesStart(w, bucket, m, "le", "+Inf");
          count(w, m.count, om);
          w.ascii("\n");
        }
        sumAndCount(w, name, m, m.sum, m.count, om);
        break;
      }
      case "summary": {
        const quantile = template(name, m.desc);
        for (const [q, v] of m.quantiles) {
          writeSeriesStart(w, quantile, m, "quantile", bound(q));
          float(w, v, om);
          w.ascii("\n");
        }
        sumAndCount(w, name, m, m.sum, m.count, om);
        break;
      }
      case "invalid": // never gathered: the registry drops its family
        break;
      default:
        // The hot path at high cardinality: one template per Desc, no strings built.
        if (m.desc !== desc) {
          desc = m.desc;
          t = template(valueName, desc);
        }
        writeSeriesStart(w, t!, m);
        float(w, m.value, om);
        w.bytes(newline);
    }
  }
}

const newline = utf8("\n");

/** Series `from` to `to` of a family kept in a column: the hot path at high cardinality. */
function columnSamples(w: ByteWriter, f: ColumnFamily, valueName: string, om: boolean, from: number, to: number): void {
  const c = f.column, order = f.order;
  const t = template(valueName, c.desc);
  const labelOrder = t.order, stride = c.stride, labels = c.labels, values = c.values;
  for (let k = from; k < to; k++) {
    const i = order ? order[k] : k;
    const at = i * stride;
    w.bytes(t.open);
    for (let j = 0; j < labelOrder.length; j++) {
      if (j > 0) w.bytes(t.mids[j - 1]);
      w.escaped(labels[at + labelOrder[j]], true);
    }
    w.bytes(t.close);
    if (om) w.numberOM(values[i]);
    else w.number(values[i]);
    w.bytes(newline);
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

function sumAndCount(w: ByteWriter, name: string, m: Metric, sum: number, n: number, om: boolean): void {
  writeSeriesStart(w, template(name + "_sum", m.desc), m);
  float(w, sum, om);
  w.ascii("\n");
  writeSeriesStart(w, template(name + "_count", m.desc), m);
  count(w, n, om);
  w.ascii("\n");
}
