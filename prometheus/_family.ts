// Gather-time checks and ordering of metric families: what the registry does with
// the metrics its collectors sent.
import type { Desc } from "./desc.ts";
import { labelCount, labelValueAt, type Metric, type MetricType, renderLabels } from "./value.ts";
import type { Capture, Column } from "./_capture.ts";
import { seriesLabels } from "./_sample.ts";
import { seriesPerTurn, yieldToEventLoop } from "./_turns.ts";

/** A metric family as gathered: name, help, type and its series, sorted. */
export interface MetricFamily {
  /** The family's name, as exposed. */
  readonly name: string;
  /** Its help text. */
  readonly help: string;
  /** Its type. */
  readonly type: Exclude<MetricType, "invalid">;
  /** The Desc of the first series, whose label layout the encoders write from. */
  readonly desc: Desc;
  /** Its series, sorted as client_golang sorts them. */
  readonly metrics: Metric[];
}

/** Why a collector or a family was left out of a gather. */
export class GatherError extends Error {
  /** The collector that failed, or that sent the offending series. */
  readonly collector: string;
  /** The family that was dropped, when the error concerns one family. */
  readonly family: string | undefined;
  /** An error naming `collector` and, when it concerns one family, `family`. */
  constructor(collector: string, message: string, family?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "GatherError";
    this.collector = collector;
    this.family = family;
  }
}

/** What the family checks need to know of the collector that sent the metrics. */
export interface Source {
  readonly name: string;
  /** Descs described at registration; empty for an unchecked collector. */
  readonly descs: ReadonlySet<Desc>;
  readonly descIDs: ReadonlySet<string>;
}

/**
 * The permutation that sorted a family's series last time. Most collectors send the
 * same series in the same order on every scrape: applying the last permutation and
 * checking in one pass that the result is sorted costs O(n), where sorting 100k series
 * costs tens of milliseconds. Only the permutation is kept (4 bytes a series), not the
 * series or their label values, so nothing of a scrape outlives it.
 */
export interface SortMemo {
  readonly order: Uint32Array;
  /**
   * For a family of snapshots (metrics with state), each series' Desc and label
   * values array as sent when `order` was checked: the same objects in the same places
   * mean the same series, so the order holds and there is still no duplicate.
   */
  readonly sent?: { readonly descs: readonly Desc[]; readonly labels: readonly (readonly string[])[] };
}

/** Families at least this large remember their sort order between gathers. */
const memoMinSize = 64;

export class FamilyBuilder {
  readonly name: string;
  readonly desc: Desc;
  readonly type: Metric["type"];
  readonly metrics: Metric[] = [];
  /**
   * Which collector sent which metrics, for error messages: metrics from index
   * `owners[k].from` on came from `owners[k].name`. One entry per collector, not per
   * series.
   */
  readonly owners: { from: number; name: string }[] = [];
  error: GatherError | undefined;
  /** An invalid metric was sent for this family: it is left out. */
  invalid = false;
  /** Series kept in columns (see _capture.ts), with the collector that sent them. */
  readonly columns: { column: Column; owner: string }[] = [];
  constructor(desc: Desc, type: Metric["type"]) {
    this.name = desc.fqName;
    this.desc = desc;
    this.type = type;
  }
  /** Series in this family so far. */
  get size(): number {
    let n = this.metrics.length;
    for (let i = 0; i < this.columns.length; i++) n += this.columns[i].column.n;
    return n;
  }
  ownerOf(index: number): string {
    let name = this.owners[0].name;
    for (const o of this.owners) if (o.from <= index) name = o.name;
    return name;
  }
  fail(collector: string, message: string): void {
    this.error ??= new GatherError(collector, message, this.name);
  }

  /**
   * Sorts the series as client_golang does and checks for duplicates, which sorting
   * places side by side: the rendered label set is canonical (sorted by name,
   * escaped), so equal neighbours are the same series.
   */
  finish(memos: Map<string, SortMemo>): MetricFamily | undefined | Promise<MetricFamily | undefined> {
    if (this.invalid || this.error) return undefined;
    if (this.columns.length === 1 && this.metrics.length === 0) {
      const { column, owner } = this.columns[0];
      column.owner = owner;
      const r = finishColumn(column, memos);
      if (r instanceof Promise) return r.then((x) => this.#failed(x));
      return this.#failed(r);
    }
    // Several Descs or collectors under one name, or metric objects: as objects.
    for (const { column, owner } of this.columns) {
      if (this.owners.at(-1)?.name !== owner) this.owners.push({ from: this.metrics.length, name: owner });
      for (let i = 0; i < column.n; i++) this.metrics.push(column.metric(i));
    }
    const m = this.metrics;
    const memo = m.length >= memoMinSize ? memos.get(this.name) : undefined;
    if (memo?.sent && sameSeries(m, memo.sent)) return this.#family(permute(m, memo.order));
    let sorted = m;
    let order: Uint32Array | undefined;
    if (m.length > 1) {
      if (memo && memo.order.length === m.length) {
        const candidate = permute(m, memo.order);
        if (isSorted(candidate)) {
          order = memo.order;
          sorted = candidate;
        }
      }
      if (!order && !isSorted(m)) {
        order = new Uint32Array(m.length);
        for (let i = 0; i < order.length; i++) order[i] = i;
        order.sort((i, j) => compareMetrics(m[i], m[j]));
        sorted = permute(m, order);
      }
      // Sorted, duplicates are neighbours.
      for (let i = 1; i < sorted.length; i++) {
        if (sameLabels(sorted[i], sorted[i - 1])) {
          const owner = this.ownerOf(order ? order[i] : i);
          this.fail(
            owner,
            `collector ${owner}: collected metric ${this.name}{${
              sorted[i]._labels
            }} was collected before with the same name and label values`,
          );
          return undefined;
        }
      }
    }
    if (m.length >= memoMinSize) {
      const sent = sentSeries(m);
      if (order || sent) memos.set(this.name, { order: order ?? identity(m.length), sent });
    }
    return this.#family(sorted);
  }

  #family(metrics: Metric[]): MetricFamily {
    return {
      name: this.name,
      help: this.desc.help,
      type: this.type as MetricFamily["type"],
      desc: this.desc,
      metrics,
    };
  }

  /** The family, or undefined with the error kept. */
  #failed(r: MetricFamily | GatherError): MetricFamily | undefined {
    if (!(r instanceof GatherError)) return r;
    this.error ??= r;
    return undefined;
  }
}

/**
 * One Desc from one collector, the usual case and the one with many series: sorted
 * and checked in its column, as an order of indexes, without a metric object. The
 * error names `column.owner` and the family.
 */
export function finishColumn(
  c: Column,
  memos: Map<string, SortMemo>,
): MetricFamily | GatherError | Promise<MetricFamily | GatherError> {
  const n = c.n, name = c.desc.fqName;
  // One series is sorted and has no duplicate: most families of a default scrape.
  if (n === 1) return new ColumnFamily(name, c.desc.help, c.type, c, undefined);
  // The same label values in the same places as a run checked before: its order
  // holds and there is still no duplicate, as a scan would find again.
  if (c.checked !== undefined) return columnFamily(c, memos, c.checked.order, -1);
  const cmp = (i: number, j: number) => compareColumn(c, i, j);
  const memo = memos.get(name);
  const memoOrder = memo && memo.order.length === n ? memo.order : undefined;
  // One pass tells both whether an order holds and where, if anywhere, two
  // neighbours are the same series: duplicates are neighbours once sorted. The last
  // gather's order is tried first, then the order as sent, then a sort.
  if (n <= seriesPerTurn) {
    let order = memoOrder;
    let scan = order ? scanOrder(order, n, cmp) : -2;
    if (scan === -2) scan = scanOrder(order = undefined, n, cmp);
    if (scan === -2) scan = scanOrder(order = sortedOrder(n, cmp), n, cmp);
    return columnFamily(c, memos, order, scan);
  }
  // Checking 250k series takes ~10 ms: in slices, the event loop running between.
  return (async () => {
    let order = memoOrder;
    let scan = order ? await scanSliced(order, n, cmp) : -2;
    if (scan === -2) scan = await scanSliced(order = undefined, n, cmp);
    if (scan === -2) scan = await scanSliced(order = sortedOrder(n, cmp), n, cmp);
    return columnFamily(c, memos, order, scan);
  })();
}

function columnFamily(
  c: Column,
  memos: Map<string, SortMemo>,
  order: Uint32Array | undefined,
  scan: number,
): MetricFamily | GatherError {
  const name = c.desc.fqName;
  if (scan >= 0) {
    const i = order ? order[scan] : scan;
    const values = c.labels.slice(i * c.stride, (i + 1) * c.stride);
    return new GatherError(
      c.owner,
      `collector ${c.owner}: collected metric ${name}{${
        renderLabels(c.desc, values)
      }} was collected before with the same name and label values`,
      name,
    );
  }
  // Kept as it is when the order is the same: one object fewer per family and gather.
  if (c.checked === undefined || c.checked.order !== order) c.checked = { order };
  if (order && c.n >= memoMinSize) memos.set(name, { order });
  return new ColumnFamily(name, c.desc.help, c.type, c, order);
}

/** The indexes 0..n-1 sorted by `cmp`. */
export function sortedOrder(n: number, cmp: (i: number, j: number) => number): Uint32Array {
  return identity(n).sort(cmp);
}

/**
 * A family whose series are in one column: the encoders write it from the column
 * and `order`; `metrics` makes the metric objects when first asked for.
 */
export class ColumnFamily implements MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: Exclude<MetricType, "invalid" | "histogram" | "summary">;
  readonly desc: Desc;
  readonly size: number;
  readonly column: Column;
  /** Series in exposition order, as indexes into the column; undefined: as they are. */
  readonly order: Uint32Array | undefined;
  readonly #capture: Capture;
  readonly #generation: number;
  #metrics: Metric[] | undefined;

  constructor(name: string, help: string, type: ColumnFamily["type"], column: Column, order: Uint32Array | undefined) {
    this.name = name;
    this.help = help;
    this.type = type;
    this.desc = column.desc;
    this.size = column.n;
    this.column = column;
    this.order = order;
    this.#capture = column.capture;
    this.#generation = column.capture.generation;
  }

  /** Throws when the column has been reused by a later run since this family was gathered. */
  check(): void {
    if (this.#capture.generation !== this.#generation) {
      throw new Error(`metric family ${this.name} read after its gather was released (Gathered.release)`);
    }
  }

  get metrics(): Metric[] {
    if (this.#metrics) return this.#metrics;
    this.check();
    const out: Metric[] = new Array(this.size);
    for (let k = 0; k < this.size; k++) out[k] = this.column.metric(this.order ? this.order[k] : k);
    return this.#metrics = out;
  }
}

/** Series in a family, without making metric objects. */
export function familySize(f: MetricFamily): number {
  return f instanceof ColumnFamily ? f.size : f.metrics.length;
}

/** Compares series `i` and `j` of a column by label values, in label-name order. */
function compareColumn(c: Column, i: number, j: number): number {
  const order = c.desc._order, s = c.stride, labels = c.labels;
  const a = i * s, b = j * s;
  for (let k = 0; k < order.length; k++) {
    const x = labels[a + order[k]], y = labels[b + order[k]];
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * Walks indexes in `order` (or 0..n-1): -2 when they are not in ascending order by
 * `cmp`, else the position of the first series equal to the one before it, else -1.
 */
function scanOrder(
  order: Uint32Array | undefined,
  n: number,
  cmp: (i: number, j: number) => number,
  from = 1,
  to = n,
): number {
  let dup = -1;
  for (let k = from; k < to; k++) {
    const c = order ? cmp(order[k - 1], order[k]) : cmp(k - 1, k);
    if (c > 0) return -2;
    if (c === 0 && dup < 0) dup = k;
  }
  return dup;
}

/** {@linkcode scanOrder} in slices of seriesPerTurn, the event loop running between. */
async function scanSliced(
  order: Uint32Array | undefined,
  n: number,
  cmp: (i: number, j: number) => number,
): Promise<number> {
  let dup = -1;
  for (let from = 1; from < n; from += seriesPerTurn) {
    const r = scanOrder(order, n, cmp, from, Math.min(n, from + seriesPerTurn));
    if (r === -2) return -2;
    if (dup < 0) dup = r;
    await yieldToEventLoop();
  }
  return dup;
}

/** The Descs and label value arrays of `m`, when every one is a snapshot of a metric with state. */
function sentSeries(m: readonly Metric[]): SortMemo["sent"] {
  const descs: Desc[] = new Array(m.length), labels: (readonly string[])[] = new Array(m.length);
  for (let i = 0; i < m.length; i++) {
    const l = seriesLabels(m[i]);
    if (l === undefined) return undefined;
    descs[i] = m[i].desc;
    labels[i] = l;
  }
  return { descs, labels };
}

/** Whether `m` are snapshots of the series `sent`, in the same places. */
function sameSeries(m: readonly Metric[], sent: NonNullable<SortMemo["sent"]>): boolean {
  if (m.length !== sent.labels.length) return false;
  for (let i = 0; i < m.length; i++) {
    if (m[i].desc !== sent.descs[i] || seriesLabels(m[i]) !== sent.labels[i]) return false;
  }
  return true;
}

function identity(n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order;
}

/** `m` in `order`: a new array whose i-th item is `m[order[i]]`. */
export function permute<T>(m: readonly T[], order: Uint32Array): T[] {
  const out: T[] = new Array(m.length);
  for (let i = 0; i < order.length; i++) out[i] = m[order[i]];
  return out;
}

/** Whether two series of a family have the same label set. */
function sameLabels(a: Metric, b: Metric): boolean {
  if (a.desc !== b.desc) return a._labels === b._labels; // rare: several Descs in one family
  const n = labelCount(a);
  for (let i = 0; i < n; i++) if (labelValueAt(a, i) !== labelValueAt(b, i)) return false;
  return true;
}

/**
 * What a gather files under a family name: the one column of the usual case (see
 * {@linkcode addMetrics}), else a builder. A default scrape has ~35 families, and a
 * builder and its arrays for each was a third of what a gather allocated.
 */
export type FamilySlot = FamilyBuilder | Column;

/**
 * The families of one gather by name, in the order their first series came: a Map
 * of indexes into an array, so that the gather walks the array (walking a Map makes an
 * iterator result per family on Deno, ~1.6 KB a default scrape).
 */
export class Families {
  readonly #index = new Map<string, number>();
  /** The slots, in the order their names came. */
  readonly slots: FamilySlot[] = [];

  get(name: string): FamilySlot | undefined {
    const i = this.#index.get(name);
    return i === undefined ? undefined : this.slots[i];
  }

  has(name: string): boolean {
    return this.#index.has(name);
  }

  /** Files `slot` under `name`, in the place of the one filed there before, if any. */
  set(name: string, slot: FamilySlot): void {
    const i = this.#index.get(name);
    if (i !== undefined) this.slots[i] = slot;
    else {
      this.#index.set(name, this.slots.length);
      this.slots.push(slot);
    }
  }
}

/** A builder holding `column`, filed before as a family of its own. */
function builderOf(column: Column): FamilyBuilder {
  const b = new FamilyBuilder(column.desc, column.type);
  b.columns.push({ column, owner: column.owner });
  return b;
}

/** The name of the family in `slot`. */
export function slotName(slot: FamilySlot): string {
  return slot instanceof FamilyBuilder ? slot.name : slot.desc.fqName;
}

/** Series in the family in `slot`. */
export function slotSize(slot: FamilySlot): number {
  return slot instanceof FamilyBuilder ? slot.size : slot.n;
}

/**
 * Sorts and checks the family in `slot` (see {@linkcode FamilyBuilder.finish}): the
 * family, or why it is left out; a Promise only for a large family.
 */
export function finishSlot(
  slot: FamilySlot,
  memos: Map<string, SortMemo>,
): MetricFamily | GatherError | undefined | Promise<MetricFamily | GatherError | undefined> {
  if (!(slot instanceof FamilyBuilder)) return finishColumn(slot, memos);
  const f = slot.finish(memos);
  if (f instanceof Promise) return f.then((fam) => fam ?? slot.error);
  return f ?? slot.error;
}

/** Files a collector's metrics into families; false when it sent an invalid metric. */
export function addMetrics(
  families: Families,
  entry: Source,
  capture: Capture,
  errors: GatherError[],
): boolean {
  const checked = entry.descs.size > 0;
  const registered = (desc: Desc) => !checked || entry.descs.has(desc) || entry.descIDs.has(desc.id);
  /** The family of `desc`, made if new, with the checks that concern a Desc once. */
  const familyOf = (desc: Desc, type: Metric["type"]): FamilyBuilder => {
    const slot = families.get(desc.fqName);
    let fam: FamilyBuilder;
    if (slot === undefined) families.set(desc.fqName, fam = new FamilyBuilder(desc, type));
    else if (slot instanceof FamilyBuilder) fam = slot;
    else families.set(desc.fqName, fam = builderOf(slot));
    if (!registered(desc)) {
      fam.fail(
        entry.name,
        `collector ${entry.name}: collected metric ${desc.fqName} with unregistered descriptor ${desc}`,
      );
    }
    if (desc.help !== fam.desc.help) {
      fam.fail(
        entry.name,
        `collector ${entry.name}: collected metric ${desc.fqName} has help ${
          JSON.stringify(desc.help)
        } but should have ${JSON.stringify(fam.desc.help)}`,
      );
    }
    return fam;
  };
  const columns = capture.list;
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i];
    // The usual case: the first series of this name in the gather, from a registered
    // Desc. Filed as the column itself, which passes the checks above by construction;
    // a builder is made of it only if another column or metric of the name comes.
    if (!families.has(column.desc.fqName) && registered(column.desc)) {
      column.owner = entry.name;
      families.set(column.desc.fqName, column);
      continue;
    }
    const f = familyOf(column.desc, column.type);
    if (f.error || f.invalid) continue;
    if (column.type !== f.type) {
      f.fail(
        entry.name,
        `collector ${entry.name}: collected metric ${f.name} has type ${column.type} but should have ${f.type}`,
      );
      continue;
    }
    f.columns.push({ column, owner: entry.name });
  }
  let ok = true;
  let lastDesc: Desc | undefined;
  let fam: FamilyBuilder | undefined;
  for (const m of capture.others) {
    const desc = m.desc;
    if (desc !== lastDesc) {
      lastDesc = desc;
      fam = familyOf(desc, m.type);
    }
    const f = fam!;
    if (m.type === "invalid") {
      ok = false;
      f.invalid = true;
      const message = `collector ${entry.name}: metric ${f.name}: ${m.error.message}`;
      errors.push(new GatherError(entry.name, message, f.name, { cause: m.error }));
      continue;
    }
    if (f.error || f.invalid) continue; // dropped already: one error per family is enough
    if (m.type !== f.type) {
      f.fail(
        entry.name,
        `collector ${entry.name}: collected metric ${f.name} has type ${m.type} but should have ${f.type}`,
      );
      continue;
    }
    if (labelCount(m) !== desc.variableLabels.length) {
      f.fail(
        entry.name,
        `collector ${entry.name}: collected metric ${f.name} has ${
          labelCount(m)
        } label values but its Desc has ${desc.variableLabels.length} variable labels`,
      );
      continue;
    }
    if (f.owners.at(-1)?.name !== entry.name) f.owners.push({ from: f.metrics.length, name: entry.name });
    f.metrics.push(m);
  }
  return ok;
}

/**
 * A histogram `x` exposes `x_bucket`, `x_count` and `x_sum`, a summary `x_count` and
 * `x_sum`: another family under one of those names would be ambiguous to a parser.
 */
export function dropSuffixCollisions(families: MetricFamily[], errors: GatherError[]): void {
  // `families` is sorted by name: each suffixed name is looked up by bisection, so
  // that a gather without histograms or summaries, the usual one, costs one pass.
  let drop: Set<MetricFamily> | undefined;
  for (const f of families) {
    if (f.type !== "histogram" && f.type !== "summary") continue;
    const suffixes = f.type === "histogram" ? histogramSuffixes : summarySuffixes;
    for (const s of suffixes) {
      const other = byName(families, f.name + s);
      if (other && !drop?.has(other)) {
        (drop ??= new Set()).add(other);
        errors.push(
          new GatherError(
            "registry",
            `collected metric named ${other.name} collides with previously collected ${f.type} named ${f.name}`,
            other.name,
          ),
        );
      }
    }
  }
  if (drop === undefined) return;
  for (let i = families.length - 1; i >= 0; i--) if (drop.has(families[i])) families.splice(i, 1);
}

const histogramSuffixes = ["_bucket", "_count", "_sum"], summarySuffixes = ["_count", "_sum"];

/** The family named `name` in `families`, sorted by name; undefined when none is. */
function byName(families: readonly MetricFamily[], name: string): MetricFamily | undefined {
  let lo = 0, hi = families.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (families[mid].name < name) lo = mid + 1;
    else hi = mid;
  }
  return lo < families.length && families[lo].name === name ? families[lo] : undefined;
}

/** Label value tuples in label-name order, for series from different Descs. */
function sortedPairs(m: Metric): [string, string][] {
  const d = m.desc;
  const pairs: [string, string][] = Object.entries(d.constLabels);
  d.variableLabels.forEach((n, i) => pairs.push([n, labelValueAt(m, i)]));
  return pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function compareMetrics(a: Metric, b: Metric): number {
  if (a.desc === b.desc) {
    const order = a.desc._order;
    for (let k = 0; k < order.length; k++) {
      const x = labelValueAt(a, order[k]), y = labelValueAt(b, order[k]);
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  }
  // As client_golang's MetricSorter: fewer labels first, then the values of the
  // label pairs sorted by name, position by position. Ties are broken by label name,
  // so that only the same series compare equal: finish() finds duplicates as
  // neighbours.
  const pa = sortedPairs(a), pb = sortedPairs(b);
  if (pa.length !== pb.length) return pa.length - pb.length;
  for (let i = 0; i < pa.length; i++) {
    if (pa[i][1] !== pb[i][1]) return pa[i][1] < pb[i][1] ? -1 : 1;
  }
  for (let i = 0; i < pa.length; i++) {
    if (pa[i][0] !== pb[i][0]) return pa[i][0] < pb[i][0] ? -1 : 1;
  }
  return 0;
}

function isSorted(m: Metric[]): boolean {
  for (let i = 1; i < m.length; i++) if (compareMetrics(m[i - 1], m[i]) > 0) return false;
  return true;
}
