import { ChunkWriter, concatBytes, utf8 } from "./_bytes.ts";
import { formatCanonicalFloat, formatValue } from "./_labels.ts";
import type { Desc } from "./desc.ts";
import type { MetricFamily } from "./registry.ts";
import type { Metric } from "./value.ts";

/** The exposition formats the encoders write. */
export type Format = "text" | "openmetrics-1.0.0" | "openmetrics-0.0.1";

/** The Content-Type of each format. */
export const contentTypes: Readonly<Record<Format, string>> = {
  "text": "text/plain; version=0.0.4; charset=utf-8",
  "openmetrics-1.0.0": "application/openmetrics-text; version=1.0.0; charset=utf-8",
  "openmetrics-0.0.1": "application/openmetrics-text; version=0.0.1; charset=utf-8",
};

/** Size of the chunks the encoders hand out. */
const defaultChunkSize = 64 * 1024;

/**
 * Encodes families in the given format as UTF-8, yielding chunks of about
 * `chunkSize` bytes, so that a server can stream a large exposition and let the event
 * loop run between chunks. Each chunk is a buffer of its own.
 */
export function* encodeChunks(
  families: readonly MetricFamily[],
  format: Format = "text",
  chunkSize = defaultChunkSize,
): Generator<Uint8Array, void, undefined> {
  const pending: Uint8Array[] = [];
  const w = new ChunkWriter(Math.max(1, chunkSize), (c) => pending.push(c));
  const om = format !== "text";
  for (const f of families) {
    if (om) openMetricsFamily(w, f);
    else textFamily(w, f);
    while (pending.length) yield pending.shift()!;
  }
  if (om) w.ascii("# EOF\n");
  w.flush();
  yield* pending;
}

/** Encodes families as UTF-8 bytes in one buffer. */
export function encodeBytes(families: readonly MetricFamily[], format: Format = "text"): Uint8Array {
  return concatBytes([...encodeChunks(families, format)]);
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
function writeSeriesStart(w: ChunkWriter, t: Template, m: Metric, extraLabel?: string, extraValue?: string): void {
  w.bytes(t.open);
  const order = t.order, values = m.labelValues;
  for (let k = 0; k < order.length; k++) {
    if (k > 0) w.bytes(t.mids[k - 1]);
    w.escaped(values[order[k]], true);
  }
  if (extraLabel === undefined) {
    w.bytes(t.close);
  } else {
    w.bytes(t.extra(extraLabel));
    w.ascii(extraValue!);
    w.bytes(closeExtra);
  }
}

function header(w: ChunkWriter, name: string, help: string, type: string, om: boolean): void {
  w.ascii(`# HELP ${name} `);
  w.escaped(help, om);
  w.ascii(`\n# TYPE ${name} ${type}\n`);
}

function textFamily(w: ChunkWriter, f: MetricFamily): void {
  header(w, f.name, f.help, f.type, false);
  samples(w, f, f.name, f.name, formatValue);
}

/**
 * OpenMetrics names a counter family without its `_total` suffix and suffixes every
 * counter sample with `_total`; the family's stored name is left as it is, so the
 * text format keeps exposing the name the collector chose.
 */
function openMetricsFamily(w: ChunkWriter, f: MetricFamily): void {
  const counter = f.type === "counter";
  const name = counter && f.name.endsWith("_total") ? f.name.slice(0, -"_total".length) : f.name;
  header(w, name, f.help, f.type === "untyped" ? "unknown" : f.type, true);
  samples(w, f, name, counter ? name + "_total" : name, formatCanonicalFloat);
}

/**
 * The sample lines of a family. `valueName` names single-value samples; `bound`
 * formats `le` and `quantile` values, which OpenMetrics wants in canonical form.
 */
function samples(w: ChunkWriter, f: MetricFamily, name: string, valueName: string, bound: (v: number) => string): void {
  let desc: Desc | undefined;
  let t: Template | undefined;
  for (const m of f.metrics) {
    switch (m.type) {
      case "histogram": {
        let inf = false;
        const bucket = template(name + "_bucket", m.desc);
        for (const [le, c] of m.buckets) {
          writeSeriesStart(w, bucket, m, "le", bound(le));
          w.number(c);
          w.ascii("\n");
          inf ||= le === Infinity;
        }
        if (!inf) {
          writeSeriesStart(w, bucket, m, "le", "+Inf");
          w.number(m.count);
          w.ascii("\n");
        }
        sumAndCount(w, name, m, m.sum, m.count);
        break;
      }
      case "summary": {
        const quantile = template(name, m.desc);
        for (const [q, v] of m.quantiles) {
          writeSeriesStart(w, quantile, m, "quantile", bound(q));
          w.number(v);
          w.ascii("\n");
        }
        sumAndCount(w, name, m, m.sum, m.count);
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
        w.number(m.value);
        w.bytes(newline);
    }
  }
}

const newline = utf8("\n");

function sumAndCount(w: ChunkWriter, name: string, m: Metric, sum: number, count: number): void {
  writeSeriesStart(w, template(name + "_sum", m.desc), m);
  w.number(sum);
  w.ascii("\n");
  writeSeriesStart(w, template(name + "_count", m.desc), m);
  w.number(count);
  w.ascii("\n");
}
