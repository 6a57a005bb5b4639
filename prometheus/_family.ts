// Gather-time checks and ordering of metric families: what the registry does with
// the metrics its collectors sent.
import type { Desc } from "./desc.ts";
import type { Metric, MetricType } from "./value.ts";

/** A metric family as gathered: name, help, type and its series, sorted. */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: Exclude<MetricType, "invalid">;
  /** The Desc of the first series, whose label layout the encoders write from. */
  readonly desc: Desc;
  readonly metrics: Metric[];
}

/** Why a collector or a family was left out of a gather. */
export class GatherError extends Error {
  /** The collector that failed, or that sent the offending series. */
  readonly collector: string;
  /** The family that was dropped, when the error concerns one family. */
  readonly family: string | undefined;
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
  constructor(first: Metric) {
    this.name = first.desc.fqName;
    this.desc = first.desc;
    this.type = first.type;
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
  finish(memos: Map<string, SortMemo>): MetricFamily | undefined {
    if (this.invalid || this.error) return undefined;
    const m = this.metrics;
    let sorted = m;
    let order: Uint32Array | undefined;
    if (m.length > 1) {
      const memo = memos.get(this.name);
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
            `collector ${owner}: collected metric ${this.name}{${sorted[i]._labels}} was collected before with the same name and label values`,
          );
          return undefined;
        }
      }
    }
    if (order && m.length >= memoMinSize) memos.set(this.name, { order });
    return { name: this.name, help: this.desc.help, type: this.type as MetricFamily["type"], desc: this.desc, metrics: sorted };
  }
}

function permute(m: Metric[], order: Uint32Array): Metric[] {
  const out: Metric[] = new Array(m.length);
  for (let i = 0; i < order.length; i++) out[i] = m[order[i]];
  return out;
}

/** Whether two series of a family have the same label set. */
function sameLabels(a: Metric, b: Metric): boolean {
  if (a.desc !== b.desc) return a._labels === b._labels; // rare: several Descs in one family
  const x = a.labelValues, y = b.labelValues;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}


/** Files a collector's metrics into families; false when it sent an invalid metric. */
export function addMetrics(families: Map<string, FamilyBuilder>, entry: Source, metrics: Metric[], errors: GatherError[]): boolean {
  let ok = true;
  const checked = entry.descs.size > 0;
  let lastDesc: Desc | undefined;
  let fam: FamilyBuilder | undefined;
  for (const m of metrics) {
    const desc = m.desc;
    if (desc !== lastDesc) {
      lastDesc = desc;
      fam = families.get(desc.fqName);
      if (!fam) families.set(desc.fqName, fam = new FamilyBuilder(m));
      if (checked && !entry.descs.has(desc) && !entry.descIDs.has(desc.id)) {
        fam.fail(entry.name, `collector ${entry.name}: collected metric ${desc.fqName} with unregistered descriptor ${desc}`);
      }
      if (desc.help !== fam.desc.help) {
        fam.fail(
          entry.name,
          `collector ${entry.name}: collected metric ${desc.fqName} has help ${JSON.stringify(desc.help)} but should have ${
            JSON.stringify(fam.desc.help)
          }`,
        );
      }
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
      f.fail(entry.name, `collector ${entry.name}: collected metric ${f.name} has type ${m.type} but should have ${f.type}`);
      continue;
    }
    if (m.labelValues.length !== desc.variableLabels.length) {
      f.fail(
        entry.name,
        `collector ${entry.name}: collected metric ${f.name} has ${m.labelValues.length} label values but its Desc has ${desc.variableLabels.length} variable labels`,
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
  const byName = new Map(families.map((f) => [f.name, f]));
  const drop = new Set<MetricFamily>();
  for (const f of families) {
    if (f.type !== "histogram" && f.type !== "summary") continue;
    const suffixes = f.type === "histogram" ? ["_bucket", "_count", "_sum"] : ["_count", "_sum"];
    for (const s of suffixes) {
      const other = byName.get(f.name + s);
      if (other && !drop.has(other)) {
        drop.add(other);
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
  if (drop.size === 0) return;
  for (let i = families.length - 1; i >= 0; i--) if (drop.has(families[i])) families.splice(i, 1);
}

/** Label value tuples in label-name order, for series from different Descs. */
function sortedPairs(m: Metric): [string, string][] {
  const d = m.desc;
  const pairs: [string, string][] = Object.entries(d.constLabels);
  d.variableLabels.forEach((n, i) => pairs.push([n, m.labelValues[i]]));
  return pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function compareMetrics(a: Metric, b: Metric): number {
  if (a.desc === b.desc) {
    const order = a.desc._order;
    for (let k = 0; k < order.length; k++) {
      const x = a.labelValues[order[k]], y = b.labelValues[order[k]];
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
