// What a collector sent during one run, kept in columns rather than as the objects it
// sent: the value, and the label values of counters, gauges and untyped metrics go into
// arrays per Desc, and the metric objects themselves die young.
//
// Why: a scrape of 100k series used to keep 100k metric objects alive until the body
// was encoded. A garbage collection during the scrape then promoted them, and freeing
// them later handed whole pages back to the system, which were faulted in again on the
// next scrape (what that costs: reuse.ts). Objects that die before the next collection
// cost nearly nothing, and columns reused from scrape to scrape (reuse.ts) no faults.
import type { Desc } from "./desc.ts";
import { constValue, type Exemplar, isConstValue, type Metric, readConstValue, type ValueType } from "./value.ts";
import { ValueSample } from "./_sample.ts";

/** The series of one Desc and one value type sent in one run. */
export class Column {
  readonly desc: Desc;
  readonly type: ValueType;
  /** The capture this column belongs to. */
  readonly capture: Capture;
  /** Label values per series: `desc.variableLabels.length` of them, series after series. */
  readonly stride: number;
  /** Series in this run. */
  n = 0;
  /** The name of the collector that sent it, for the registry's errors; set as a gather files it. */
  owner = "";
  values = new Float64Array(16);
  readonly labels: string[] = [];
  /**
   * Created timestamps (ms; NaN: none) of series sent by metrics with state
   * (counter.ts): made when the first one comes, so a column of const metrics has none.
   */
  created: Float64Array | undefined;
  /** Exemplars of counters with state, by series; made when the first one comes. */
  exemplars: (Exemplar | undefined)[] | undefined;
  /** Series the run before, to let go of label values no longer sent. */
  #previous = 0;
  /**
   * Whether this run has sent, so far, the same label values in the same places as the
   * run before: then `checked` still holds.
   */
  unchanged = false;
  /**
   * Set by the registry once the series of a run proved free of duplicates and sorted
   * in `order` (undefined: as sent); kept while later runs send the same label values
   * in the same places, which then need no check of their own (see FamilyBuilder).
   */
  checked: { readonly order: Uint32Array | undefined } | undefined;

  constructor(capture: Capture, desc: Desc, type: ValueType) {
    this.capture = capture;
    this.desc = desc;
    this.type = type;
    this.stride = desc.variableLabels.length;
  }

  push(value: number, m: Metric): void {
    const i = this.n++;
    if (i === this.values.length) {
      const grown = new Float64Array(i * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[i] = value;
    if (!readConstValue(m, this.labels, i * this.stride)) this.unchanged = false;
    if (this.created !== undefined) this.created[i] = NaN;
    if (this.exemplars !== undefined) this.exemplars[i] = undefined;
  }

  /**
   * Adds the snapshot of a counter or gauge with state: its label values, and its
   * created timestamp and exemplar, which the encoders write from here.
   */
  pushSample(m: ValueSample): void {
    const i = this.n++;
    if (i === this.values.length) {
      const grown = new Float64Array(i * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[i] = m.value;
    const lv = m.labelValues, at = i * this.stride, labels = this.labels;
    for (let k = 0; k < lv.length; k++) {
      if (labels[at + k] !== lv[k]) {
        labels[at + k] = lv[k];
        this.unchanged = false;
      }
    }
    const ts = m.createdTimestampMs;
    if (ts !== undefined || this.created !== undefined) {
      if (this.created === undefined) this.created = new Float64Array(this.values.length).fill(NaN);
      else if (this.created.length < this.values.length) {
        const grown = new Float64Array(this.values.length).fill(NaN);
        grown.set(this.created);
        this.created = grown;
      }
      this.created[i] = ts ?? NaN;
    }
    if (m.exemplar !== undefined || this.exemplars !== undefined) (this.exemplars ??= [])[i] = m.exemplar;
  }

  /** The created timestamp of series `i`, if it has one. */
  createdAt(i: number): number | undefined {
    const c = this.created;
    return c === undefined || c[i] !== c[i] ? undefined : c[i];
  }

  /** The `i`th series as a metric object, for the API's `metrics` arrays. */
  metric(i: number): Metric {
    const s = this.stride;
    const labels = this.labels.slice(i * s, i * s + s);
    const created = this.createdAt(i), exemplar = this.exemplars?.[i];
    if (created === undefined && exemplar === undefined) {
      return constValue(this.desc, this.type, this.values[i], labels);
    }
    return new ValueSample(this.desc, labels, this.type, this.values[i], created, exemplar);
  }

  /** Ends a run: drops the label values of series the last run had and this one did not. */
  seal(): void {
    if (this.n !== this.#previous || !this.unchanged) {
      this.unchanged = false;
      this.checked = undefined;
    }
    if (this.n < this.#previous) this.labels.fill("", this.n * this.stride, this.#previous * this.stride);
    if (this.exemplars !== undefined && this.exemplars.length > this.n) this.exemplars.length = this.n;
    this.#previous = this.n;
  }
}

/**
 * The metrics of one collector run. Reused by a later run of the same collector once
 * every gather that read it has said it is done (see Gathered.done).
 */
export class Capture {
  /** Columns by Desc. */
  readonly columns = new Map<Desc, Column>();
  /**
   * The same columns in the order their first series came: what a gather walks. An
   * array, as walking a Map makes an iterator and, for entries, an array per step,
   * which a default scrape paid for every collector three times (reset, seal, gather).
   */
  readonly list: Column[] = [];
  /** Everything else: histograms, summaries, invalid metrics, metric objects of other makes. */
  others: Metric[] = [];
  /** Series sent, all kinds. */
  count = 0;
  /** Bumped on reuse: families read after their capture was reused say so. */
  generation = 0;
  /** Gathers reading this capture; it is reused only at zero. */
  users = 0;
  #last: Column | undefined;

  /**
   * The function a collector's `collect` sends to, one per run: what a collector sends
   * after its run ended (say, one that went on after its deadline) is dropped, never
   * mixed into a later run.
   */
  send: (m: Metric) => void = () => {};
  #sealed = true;

  #add(m: Metric): void {
    this.count++;
    const v = readValue(m);
    // Counters and gauges with state (their snapshots, _sample.ts) go into columns as
    // const metrics do, with their created timestamps and exemplars beside.
    // One with the wrong number of label values goes with the others, where the family check reports it.
    const sample = v === undefined && m instanceof ValueSample && m.labelValues.length === m.desc.variableLabels.length
      ? m
      : undefined;
    if (v === undefined && sample === undefined) {
      this.others.push(m);
      return;
    }
    let c = this.#last;
    if (c === undefined || c.desc !== m.desc) {
      c = this.columns.get(m.desc);
      if (c === undefined) {
        this.columns.set(m.desc, c = new Column(this, m.desc, m.type as ValueType));
        this.list.push(c);
      }
      this.#last = c;
    }
    // A Desc sent with two value types: the second kind goes with the others, where
    // the family check reports the mismatch.
    if (c.type !== m.type) this.others.push(m);
    else if (sample !== undefined) c.pushSample(sample);
    else c.push(v!, m);
  }

  /** Makes the capture ready for a new run. */
  reset(): void {
    const generation = ++this.generation;
    this.#sealed = false;
    this.send = (m) => {
      if (this.generation === generation && !this.#sealed) this.#add(m);
    };
    this.count = 0;
    this.others = [];
    this.#last = undefined;
    const list = this.list;
    for (let i = 0; i < list.length; i++) {
      list[i].n = 0;
      list[i].unchanged = true;
    }
  }

  /** Ends a run: forgets Descs that sent nothing. */
  seal(): void {
    this.#sealed = true;
    const list = this.list;
    let kept = 0;
    for (let i = 0; i < list.length; i++) {
      const c = list[i];
      if (c.n === 0) this.columns.delete(c.desc);
      else {
        c.seal();
        list[kept++] = c;
      }
    }
    list.length = kept;
  }
}

/** The value of a counter, gauge or untyped metric made by mustNewConstMetric; undefined for others. */
function readValue(m: Metric): number | undefined {
  return isConstValue(m) ? (m as { value: number }).value : undefined;
}
