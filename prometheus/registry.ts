import { type Collector, collectorName } from "./collector.ts";
import type { Desc } from "./desc.ts";
import type { Metric, MetricType } from "./value.ts";
import { seriesPerTurn, yieldToEventLoop } from "./_yield.ts";

/** A metric family as gathered: name, help, type and its series, sorted. */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: Exclude<MetricType, "invalid">;
  /** The Desc of the first series; holds the escaped HELP for the encoders. */
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

/** How one collector fared in a gather. */
export interface CollectorResult {
  readonly name: string;
  readonly collector: Collector;
  /** Wall time of its `collect`, in seconds. */
  readonly durationSeconds: number;
  /** False when it threw, rejected or missed the deadline. */
  readonly success: boolean;
}

/** The result of {@linkcode Registry.gather}: what could be gathered, and what not. */
export interface Gathered {
  readonly families: MetricFamily[];
  readonly errors: GatherError[];
  readonly collectors: CollectorResult[];
}

/** Options for one gather. */
export interface GatherOptions {
  /** Aborts the gather: collectors still running are reported as failed. */
  readonly signal?: AbortSignal;
  /** Run only the collectors for which this returns true. */
  readonly filter?: (c: Collector, name: string) => boolean;
}

/** Thrown by {@linkcode Registry.register} when an equal collector is registered already. */
export class AlreadyRegisteredError extends Error {
  /** The collector registered before, which callers may want to use instead. */
  readonly existingCollector: Collector;
  /** The collector whose registration failed. */
  readonly newCollector: Collector;
  constructor(existing: Collector, added: Collector, what: string) {
    super(`duplicate metrics collector registration attempted: ${what}`);
    this.name = "AlreadyRegisteredError";
    this.existingCollector = existing;
    this.newCollector = added;
  }
}

interface Entry {
  readonly collector: Collector;
  readonly name: string;
  readonly id: string;
  /** Descs described at registration; empty for an unchecked collector. */
  readonly descs: ReadonlySet<Desc>;
  readonly descIDs: ReadonlySet<string>;
}

/**
 * A Registry holds collectors and gathers their metrics, as Go's
 * `prometheus.Registry`: registration refuses invalid or conflicting descriptors, and
 * gathering checks what collectors send, dropping and reporting what is inconsistent
 * rather than exposing it.
 */
export class Registry {
  #entries: Entry[] = [];
  #byID = new Map<string, Entry>();
  #descIDs = new Set<string>();
  #dimHashesByName = new Map<string, string>();
  #inflight = new Map<Entry, Promise<Run>>();
  #last = new WeakMap<Collector, CollectorResult>();
  #sortMemos = new Map<string, SortMemo>();

  /**
   * Registers a collector. Throws, naming the metric, when a Desc is invalid, when a
   * Desc with the same name and constant label values is registered already, or when
   * a registered Desc has the same name but other help or label names. Throws
   * {@linkcode AlreadyRegisteredError} when an equal collector is registered.
   */
  register(collector: Collector): void {
    const descs: Desc[] = [];
    collector.describe((d) => descs.push(d));
    const name = collectorName(collector);
    const newIDs = new Set<string>();
    const newDims = new Map<string, string>();
    let duplicate: Error | undefined;
    for (const desc of descs) {
      if (desc.err) {
        throw new Error(`collector ${name}: descriptor ${desc} is invalid: ${desc.err.message}`);
      }
      // A Desc described twice by one collector is a no-op, as in client_golang.
      if (this.#descIDs.has(desc.id)) {
        duplicate ??= new Error(
          `collector ${name}: descriptor ${desc} already exists with the same fully-qualified name and const label values`,
        );
      }
      newIDs.add(desc.id);
      const dim = this.#dimHashesByName.get(desc.fqName) ?? newDims.get(desc.fqName);
      if (dim !== undefined && dim !== desc.dimHash) {
        throw new Error(
          `collector ${name}: a previously registered descriptor with the same fully-qualified name as ${desc} has different label names or a different help string`,
        );
      }
      newDims.set(desc.fqName, desc.dimHash);
    }
    const id = descs.length ? [...newIDs].sort().join("\u0002") : "";
    const existing = id ? this.#byID.get(id) : this.#entries.find((e) => e.collector === collector);
    if (existing) {
      throw new AlreadyRegisteredError(
        existing.collector,
        collector,
        descs.length ? `collector ${name} describes the same metrics as ${existing.name}` : `collector ${name}`,
      );
    }
    if (duplicate) throw duplicate;
    const entry: Entry = { collector, name, id, descs: new Set(descs), descIDs: newIDs };
    this.#entries.push(entry);
    if (id) this.#byID.set(id, entry);
    for (const i of newIDs) this.#descIDs.add(i);
    for (const [n, h] of newDims) this.#dimHashesByName.set(n, h);
  }

  /** Registers collectors, throwing on the first failure, as Go's `MustRegister`. */
  mustRegister(...collectors: Collector[]): void {
    for (const c of collectors) this.register(c);
  }

  /** Unregisters a collector; returns whether it was registered. */
  unregister(collector: Collector): boolean {
    const descs: Desc[] = [];
    collector.describe((d) => descs.push(d));
    const id = descs.length ? [...new Set(descs.map((d) => d.id))].sort().join("\u0002") : "";
    const entry = id ? this.#byID.get(id) : this.#entries.find((e) => e.collector === collector);
    if (!entry) return false;
    this.#entries = this.#entries.filter((e) => e !== entry);
    if (id) this.#byID.delete(id);
    for (const i of entry.descIDs) this.#descIDs.delete(i);
    const names = new Set([...entry.descs].map((d) => d.fqName));
    for (const n of names) {
      const stillUsed = this.#entries.some((e) => [...e.descs].some((d) => d.fqName === n));
      if (!stillUsed) this.#dimHashesByName.delete(n);
    }
    return true;
  }

  /** How each registered collector fared in its latest gather, if it ran yet. */
  lastResults(): (CollectorResult | { name: string; collector: Collector; durationSeconds?: undefined; success?: undefined })[] {
    return this.#entries.map((e) => this.#last.get(e.collector) ?? { name: e.name, collector: e.collector });
  }

  /** The registered collectors with their names, in registration order. */
  collectors(): { name: string; collector: Collector }[] {
    return this.#entries.map((e) => ({ name: e.name, collector: e.collector }));
  }

  /**
   * Runs every collector (concurrently, each with the gather's signal) and returns
   * the metric families sorted by name, their series sorted by label values, as
   * client_golang sorts them. A collector that throws, rejects or is still running
   * when the signal aborts is left out and reported. A family with duplicate series,
   * a type or help text other than its first series', or series from a Desc its
   * collector did not describe, is dropped and reported.
   */
  async gather(options: GatherOptions = {}): Promise<Gathered> {
    const signal = options.signal ?? neverAborted;
    const entries = options.filter ? this.#entries.filter((e) => options.filter!(e.collector, e.name)) : this.#entries;
    // Synchronous collectors finish as they are called; between large ones, and
    // between the phases below, the event loop gets a turn (see seriesPerTurn).
    const runs: (Outcome | Promise<Outcome>)[] = [];
    let sinceTurn = 0;
    // A Promise only when it is time for a turn: small gathers stay synchronous.
    const turn = (n: number): Promise<void> | undefined => {
      sinceTurn += n;
      if (sinceTurn < seriesPerTurn) return undefined;
      sinceTurn = 0;
      return yieldToEventLoop();
    };
    for (const e of entries) {
      const own = e.collector.timeoutMs;
      // Timers hold at most 2^31-1 ms: a longer timeout would fire at once (Deno) or throw.
      const s = own !== undefined && own > 0 && own <= maxTimerMs ? AbortSignal.any([signal, AbortSignal.timeout(own)]) : signal;
      const r = runCollector(e, s, this.#inflight);
      runs.push(r);
      const t = r instanceof Promise ? undefined : turn(r.metrics.length);
      if (t) await t;
    }
    const outcomes = runs.some((r) => r instanceof Promise) ? await Promise.all(runs) : runs as Outcome[];
    const errors: GatherError[] = [];
    const families = new Map<string, FamilyBuilder>();
    const sent: boolean[] = [];
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i], entry = entries[i];
      if (o.error) errors.push(o.error);
      sent.push(o.error === undefined && addMetrics(families, entry, o.metrics, errors));
      const t = turn(o.metrics.length);
      if (t) await t;
    }
    const out: MetricFamily[] = [];
    // A collector whose family is dropped (duplicate or inconsistent series) failed too.
    const dropped = new Set<string>();
    for (const f of families.values()) {
      const fam = f.finish(this.#sortMemos);
      if (fam) out.push(fam);
      else if (f.error) {
        errors.push(f.error);
        dropped.add(f.error.collector);
      }
      const t = turn(f.metrics.length);
      if (t) await t;
    }
    for (const name of this.#sortMemos.keys()) {
      if (!families.has(name)) this.#sortMemos.delete(name); // not gathered: forget it
    }
    const collectors: CollectorResult[] = outcomes.map((o, i) => {
      const entry = entries[i];
      const success = sent[i] && !dropped.has(entry.name);
      const result = { name: entry.name, collector: entry.collector, durationSeconds: o.durationSeconds, success };
      this.#last.set(entry.collector, result);
      return result;
    });
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    dropSuffixCollisions(out, errors);
    return { families: out, errors, collectors };
  }
}

/** The longest delay a timer can hold, about 24.8 days. */
const maxTimerMs = 2 ** 31 - 1;

/** The signal of a gather without a deadline. */
const neverAborted = new AbortController().signal;

interface Outcome {
  metrics: Metric[];
  error: GatherError | undefined;
  durationSeconds: number;
}

interface Run {
  metrics: Metric[];
  error: unknown;
  failed: boolean;
  durationSeconds: number;
}

/**
 * Runs one collector, buffering what it sends. A synchronous collector is done when
 * `collect` returns: no promise, no listener. If an asynchronous collector is already
 * running for another gather, this gather joins that run rather than starting a
 * second one. A run that has not finished when `signal` aborts is reported as failed
 * here, and what it sends afterwards never reaches this gather.
 */
function runCollector(
  entry: Entry,
  signal: AbortSignal,
  inflight: Map<Entry, Promise<Run>>,
): Outcome | Promise<Outcome> {
  if (signal.aborted) return failed(entry, signal.reason, "did not run", 0);
  let run = inflight.get(entry);
  if (!run) {
    const r = startRun(entry.collector, signal);
    if (!(r instanceof Promise)) return outcome(entry, r);
    run = r;
    inflight.set(entry, run);
    const clear = () => inflight.delete(entry);
    run.then(clear, clear);
  }
  return awaitRun(entry, run, signal);
}

async function awaitRun(entry: Entry, run: Promise<Run>, signal: AbortSignal): Promise<Outcome> {
  const start = performance.now();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const r = await Promise.race([run, aborted]);
    if (r === undefined) return failed(entry, signal.reason, "missed the deadline", (performance.now() - start) / 1000);
    return outcome(entry, r);
  } finally {
    signal.removeEventListener("abort", onAbort!);
  }
}

function outcome(entry: Entry, r: Run): Outcome {
  if (r.failed) return failed(entry, r.error, "failed", r.durationSeconds);
  return { metrics: r.metrics, error: undefined, durationSeconds: r.durationSeconds };
}

function failed(entry: Entry, e: unknown, what: string, durationSeconds: number): Outcome {
  const message = `collector ${entry.name} ${what}: ${errorMessage(e)}`;
  return { metrics: [], durationSeconds, error: new GatherError(entry.name, message, undefined, { cause: e }) };
}

/** Calls `collect`; a Promise only when `collect` returned one. */
function startRun(collector: Collector, signal: AbortSignal): Run | Promise<Run> {
  const start = performance.now();
  const metrics: Metric[] = [];
  const done = (): Run => ({ metrics, error: undefined, failed: false, durationSeconds: (performance.now() - start) / 1000 });
  const fail = (e: unknown): Run => ({ metrics: [], error: e, failed: true, durationSeconds: (performance.now() - start) / 1000 });
  let result: void | Promise<void>;
  try {
    result = collector.collect((m) => {
      metrics.push(m);
    }, signal);
  } catch (e) {
    return fail(e);
  }
  if (!isThenable(result)) return done();
  return Promise.resolve(result).then(done, fail);
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof x === "object" && x !== null && typeof (x as { then?: unknown }).then === "function";
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/**
 * The permutation that sorted a family's series last time. Most collectors send the
 * same series in the same order on every scrape: applying the last permutation and
 * checking in one pass that the result is sorted costs O(n), where sorting 100k series
 * costs tens of milliseconds. Only the permutation is kept (4 bytes a series), not the
 * series or their label values, so nothing of a scrape outlives it.
 */
interface SortMemo {
  readonly order: Uint32Array;
}

/** Families at least this large remember their sort order between gathers. */
const memoMinSize = 64;

class FamilyBuilder {
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
function addMetrics(families: Map<string, FamilyBuilder>, entry: Entry, metrics: Metric[], errors: GatherError[]): boolean {
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
function dropSuffixCollisions(families: MetricFamily[], errors: GatherError[]): void {
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
