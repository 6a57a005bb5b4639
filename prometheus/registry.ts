import { type Collector, collectorName, isSelectable } from "./collector.ts";
import type { Desc } from "./desc.ts";
import type { Metric } from "./value.ts";
import { seriesPerTurn, yieldToEventLoop } from "./_turns.ts";
import { SparePool } from "./reuse.ts";
import {
  addMetrics,
  dropSuffixCollisions,
  Families,
  type FamilySlot,
  finishSlot,
  GatherError,
  type MetricFamily,
  permute,
  slotName,
  slotSize,
  sortedOrder,
  type SortMemo,
} from "./_family.ts";
import { neverAborted, type Outcome, type Run, runCollector } from "./_run.ts";
import type { Capture } from "./_capture.ts";
import { maxTimerMs } from "./timers.ts";

export { GatherError, type MetricFamily } from "./_family.ts";

/** How one collector fared in a gather. */
export interface CollectorResult {
  /** The collector's name. */
  readonly name: string;
  /** The collector itself. */
  readonly collector: Collector;
  /** Wall time of its `collect`, in seconds. */
  readonly durationSeconds: number;
  /** False when it threw, rejected or missed the deadline. */
  readonly success: boolean;
  /** How many series it sent (a histogram or summary counts once); 0 when it failed. */
  readonly series: number;
}

/** What a collector's name may be: it becomes `--collector.<name>` and a label value. */
const validCollectorName = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** A collector as an error message names it: its name and, when it has one, its class. */
function describeCollector(c: Collector): string {
  const ctor = (c as { constructor?: { name?: string } }).constructor?.name;
  const cls = ctor && ctor !== "Object" ? ` (class ${ctor})` : "";
  return typeof c.name === "string" && c.name !== ""
    ? `collector ${JSON.stringify(c.name)}${cls}`
    : `a collector${cls}`;
}

/** The result of {@linkcode Registry.gather}: what could be gathered, and what not. */
export interface Gathered {
  /** The families gathered, sorted by name, each with its series sorted. */
  readonly families: MetricFamily[];
  /** Why a collector or family was left out; empty when all went well. */
  readonly errors: GatherError[];
  /** How each collector that ran fared. */
  readonly collectors: CollectorResult[];
  /**
   * Says the families have been read (encoded), so that the memory holding their
   * series can serve a later gather, as Go's `mfs, done, err := Gather(); defer done()`.
   * Reading them afterwards throws. Calling it more than once does nothing; never
   * calling it is safe (their memory is then never reused, only collected).
   */
  readonly done: () => void;
}

/**
 * Anything that gathers metric families, as Go's `prometheus.Gatherer` (in its
 * transactional form): a {@linkcode Registry}, or a wrapper around one.
 */
export interface Gatherer {
  /**
   * Gathers the families, sorted by name, with what went wrong. The caller calls
   * `done()` once it no longer reads them.
   */
  gather(options?: GatherOptions): Promise<Gathered>;
}

/** Options for one gather. */
export interface GatherOptions {
  /** Aborts the gather: collectors still running are reported as failed. */
  readonly signal?: AbortSignal;
  /** Run only the collectors for which this returns true. */
  readonly filter?: (c: Collector, name: string) => boolean;
  /**
   * Run only the collectors of these names, and those marked as the exporter's own
   * (see markExporterMetrics): what `collect[]` selects. A name no registered collector
   * has rejects the gather with {@linkcode UnknownCollectorError} before anything runs.
   */
  readonly only?: readonly string[];
  /**
   * Run after the collectors, given how each fared; its metrics go through the same
   * checks as every collector's. promhttp's per-collector
   * `<namespace>_scrape_collector_*` families come from one.
   */
  readonly afterwards?: ResultCollector;
}

/**
 * A collector of how the other collectors of a gather fared, run after them (see
 * {@linkcode GatherOptions.afterwards}): node_exporter's per-collector metrics.
 */
export interface ResultCollector {
  /** A name for logs and errors. */
  readonly name?: string;
  /** Sends every Desc it can emit; called once per instance, as Collector.describe. */
  describe(ch: (desc: Desc) => void): void;
  /** Sends its metrics for `results`, the outcome of every collector this gather ran. */
  collectResults(results: readonly CollectorResult[], ch: (metric: Metric) => void): void;
}

/** What the registry keeps of a ResultCollector between gathers. */
interface ResultEntry {
  readonly name: string;
  readonly results: ResultCollector;
  readonly descs: ReadonlySet<Desc>;
  readonly descIDs: ReadonlySet<string>;
  /** The names of the families it describes. */
  readonly names: ReadonlySet<string>;
  /** The results of the current gather, read by `collector`. */
  current: readonly CollectorResult[];
  readonly collector: Collector;
}

/** Rejects a gather whose `only` names a collector that is not registered. */
export class UnknownCollectorError extends Error {
  /** The first unknown name. */
  readonly collector: string;
  /** The names that may be selected, in registration order. */
  readonly known: readonly string[];
  /** An error for `collect[]=<collector>`, listing the `known` names. */
  constructor(collector: string, known: readonly string[]) {
    super(`unknown collector ${JSON.stringify(collector)}; known: ${known.join(", ") || "none"}`);
    this.name = "UnknownCollectorError";
    this.collector = collector;
    this.known = known;
  }
}

/** Thrown by {@linkcode Registry.register} when an equal collector is registered already. */
export class AlreadyRegisteredError extends Error {
  /** The collector registered before, which callers may want to use instead. */
  readonly existingCollector: Collector;
  /** The collector whose registration failed. */
  readonly newCollector: Collector;
  /** An error for `added`, which describes the same metrics as `existing` (`what` says how). */
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
export class Registry implements Gatherer {
  #entries: Entry[] = [];
  #byID = new Map<string, Entry>();
  #descIDs = new Set<string>();
  #dimHashesByName = new Map<string, string>();
  #inflight = new Map<Entry, Promise<Run>>();
  #last = new WeakMap<Collector, CollectorResult>();
  #sortMemos = new Map<string, SortMemo>();
  #familyOrder = new FamilyOrder();
  #resultEntries = new WeakMap<ResultCollector, ResultEntry>();
  /** Captures no gather reads any more, one per collector, for its next run (see reuse.ts). */
  #spares = new SparePool<Entry | ResultEntry, Capture>();

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
    const ids = [...newIDs];
    if (ids.length > 1) ids.sort();
    const id = ids.join("\u0002");
    const existing = id ? this.#byID.get(id) : this.#entries.find((e) => e.collector === collector);
    if (existing) {
      throw new AlreadyRegisteredError(
        existing.collector,
        collector,
        descs.length ? `collector ${name} describes the same metrics as ${existing.name}` : `collector ${name}`,
      );
    }
    if (duplicate) throw duplicate;
    // A selectable collector's name becomes a flag, a label value and a field of log
    // lines: it must be the collector's own, never a class name, which minification
    // turns into "Qe". Metrics with state and the exporter's own metrics have no flag
    // and no label (collector.ts): their name only has to say which one it is.
    const selectable = isSelectable(collector);
    if (
      typeof collector.name !== "string" ||
      (selectable ? !validCollectorName.test(collector.name) : collector.name === "")
    ) {
      throw new Error(
        `${describeCollector(collector)} has ${
          collector.name ? `an invalid name ${JSON.stringify(collector.name)}` : "no name"
        }: ` +
          `give it a name of letters, digits, "_", "." or "-", e.g. \`readonly name = "foo"\` ` +
          `(it names the --collector.<name> flag, the collector label and log lines)`,
      );
    }
    const taken = selectable ? this.#entries.find((e) => e.name === name && isSelectable(e.collector)) : undefined;
    if (taken) {
      throw new Error(
        `two collectors named ${JSON.stringify(name)}: ${describeCollector(taken.collector)}, registered first, and ${
          describeCollector(collector)
        }; ` +
          `collector names must be unique in a registry`,
      );
    }
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
    this.#spares.delete(entry);
    for (const i of entry.descIDs) this.#descIDs.delete(i);
    const names = new Set([...entry.descs].map((d) => d.fqName));
    for (const n of names) {
      const stillUsed = this.#entries.some((e) => [...e.descs].some((d) => d.fqName === n));
      if (!stillUsed) this.#dimHashesByName.delete(n);
    }
    return true;
  }

  /** How each registered collector fared in its latest gather, if it ran yet. */
  lastResults(): (CollectorResult | {
    name: string;
    collector: Collector;
    durationSeconds?: undefined;
    success?: undefined;
  })[] {
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
  /** The registry's record of `rc`, described once. */
  #resultEntry(rc: ResultCollector): ResultEntry {
    let e = this.#resultEntries.get(rc);
    if (e) return e;
    const descs: Desc[] = [];
    rc.describe((d) => descs.push(d));
    const entry: ResultEntry = {
      name: collectorName(rc),
      results: rc,
      descs: new Set(descs),
      descIDs: new Set(descs.map((d) => d.id)),
      names: new Set(descs.map((d) => d.fqName)),
      current: [],
      collector: {
        name: rc.name,
        describe: (ch) => rc.describe(ch),
        collect: (ch) => rc.collectResults(entry.current, ch),
      },
    };
    this.#resultEntries.set(rc, e = entry);
    return e;
  }

  async gather(options: GatherOptions = {}): Promise<Gathered> {
    const signal = options.signal ?? neverAborted;
    let entries = options.filter ? this.#entries.filter((e) => options.filter!(e.collector, e.name)) : this.#entries;
    if (options.only) {
      const known = this.#entries.filter((e) => isSelectable(e.collector)).map((e) => e.name);
      const unknown = options.only.find((n) => !known.includes(n));
      if (unknown !== undefined) throw new UnknownCollectorError(unknown, known);
      const want = new Set(options.only);
      entries = entries.filter((e) => !isSelectable(e.collector) || want.has(e.name));
    }
    // Synchronous collectors finish as they are called; between large ones, and
    // between the phases below, the event loop gets a turn (see seriesPerTurn).
    const runs: (Outcome | Promise<Outcome>)[] = [];
    let pending = false;
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
      const s = own !== undefined && own > 0 && own <= maxTimerMs
        ? AbortSignal.any([signal, AbortSignal.timeout(own)])
        : signal;
      const r = runCollector(e, s, this.#inflight, this.#spares);
      runs.push(r);
      if (r instanceof Promise) pending = true;
      const t = r instanceof Promise ? undefined : turn(r.capture?.count ?? 0);
      if (t) await t;
    }
    const outcomes = pending ? await Promise.all(runs) : runs as Outcome[];
    const errors: GatherError[] = [];
    const families = new Families();
    const sent: boolean[] = [];
    // Each outcome made this gather a user of its capture (see runCollector), so one
    // shared with a gather that never releases is never reused.
    const held: [Entry | ResultEntry, Capture][] = [];
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i], entry = entries[i];
      if (o.error) errors.push(o.error);
      if (o.capture) held.push([entry, o.capture]);
      sent.push(o.error === undefined && addMetrics(families, entry, o.capture!, errors));
    }
    const out: MetricFamily[] = [];
    // A collector whose family is dropped (duplicate or inconsistent series) failed too.
    const dropped = new Set<string>();
    const take = (f: FamilySlot, fam: MetricFamily | GatherError | undefined) => {
      if (fam instanceof GatherError) {
        errors.push(fam);
        dropped.add(fam.collector);
      } else if (fam) out.push(fam);
      return turn(slotSize(f));
    };
    // A Promise only when the family's check or a turn of the event loop needs one:
    // an await per family cost a default scrape ~5 µs.
    const finish = (f: FamilySlot): Promise<void> | undefined => {
      const finished = finishSlot(f, this.#sortMemos);
      if (!(finished instanceof Promise)) return take(f, finished);
      return finished.then((fam) => take(f, fam));
    };
    // The families the `afterwards` collector describes are finished after it ran, so
    // that its series meet the others' of the same name in one family, checked as one.
    const after = options.afterwards && this.#resultEntry(options.afterwards);
    const slots = families.slots;
    for (let i = 0; i < slots.length; i++) {
      const f = slots[i];
      if (after?.names.has(slotName(f))) continue;
      const p = finish(f);
      if (p) await p;
    }
    const collectors: CollectorResult[] = [];
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i], entry = entries[i];
      const success = sent[i] && !dropped.has(entry.name);
      const series = o.capture?.count ?? 0;
      const result = {
        name: entry.name,
        collector: entry.collector,
        durationSeconds: o.durationSeconds,
        success,
        series,
      };
      this.#last.set(entry.collector, result);
      collectors.push(result);
    }
    if (after) {
      after.current = collectors;
      // Not the gather's signal: it reports on the others even when the deadline passed.
      const r = runCollector(after, neverAborted, this.#inflight, this.#spares);
      const o = r instanceof Promise ? await r : r;
      after.current = [];
      if (o.error) errors.push(o.error);
      else {
        held.push([after, o.capture!]);
        addMetrics(families, after, o.capture!, errors);
      }
      for (let i = 0; i < slots.length; i++) {
        const f = slots[i];
        if (!after.names.has(slotName(f))) continue;
        const p = finish(f);
        if (p) await p;
      }
    }
    if (this.#sortMemos.size) {
      for (const name of this.#sortMemos.keys()) {
        if (!families.has(name)) this.#sortMemos.delete(name); // not gathered: forget it
      }
    }
    const sorted = this.#familyOrder.sort(out);
    dropSuffixCollisions(sorted, errors);
    let released = false;
    const done = () => {
      if (released) return;
      released = true;
      for (const [entry, capture] of held) {
        if (--capture.users === 0) this.#spares.put(entry, capture);
      }
    };
    return { families: sorted, errors, collectors, done };
  }
}

/**
 * Families sorted by name, as the last gather's order: a registry's collectors send the
 * same families in the same order scrape after scrape, so the permutation that sorted
 * the last gather sorts this one, which is checked name by name (the same strings, from
 * the same Descs, compare by identity) before it is used. Sorting a default scrape's
 * ~35 families with a comparator cost it ~2 µs (3.4 % of a served exporter's JavaScript
 * samples under wrk, bun --cpu-prof) and temporary arrays every time.
 */
class FamilyOrder {
  /** The names in the order they came last time, and the order that sorted them. */
  #names: string[] = [];
  #order: Uint32Array = new Uint32Array(0);

  /** `families` sorted by name, in a new array. */
  sort(families: MetricFamily[]): MetricFamily[] {
    const n = families.length, names = this.#names;
    let same = names.length === n;
    for (let i = 0; same && i < n; i++) same = names[i] === families[i].name;
    if (!same) {
      this.#names = families.map((f) => f.name);
      this.#order = sortedOrder(n, (i, j) => {
        const a = families[i].name, b = families[j].name;
        return a < b ? -1 : a > b ? 1 : 0;
      });
    }
    return permute(families, this.#order);
  }
}
