import { type Collector, markMetricWithState } from "./collector.ts";
import type { Desc, Labels } from "./desc.ts";
import type { Metric } from "./value.ts";
import { checkLabelValues, collectorNameOf } from "./_sample.ts";

/**
 * What {@linkcode MetricVec.getMetricWithLabelValues} and
 * {@linkcode MetricVec.getMetricWith} return: Go's `(metric, err)` pair, named. Exactly
 * one of the two is set, and TypeScript narrows on either:
 * `const { metric, error } = vec.getMetricWith(labels); if (error) …; metric.inc()`.
 *
 * Chosen over `M | Error` because the caller then tests a field rather than a class
 * (`instanceof Error` is unreliable across realms and would be wrong for a metric type
 * that ever extended Error), and because it reads like the Go it ports.
 */
export type MetricResult<M> = { readonly metric: M; readonly error?: undefined } | {
  readonly metric?: undefined;
  readonly error: Error;
};

/** A series of a vector: it knows its label values and collects itself. */
export interface VecChild {
  /** Its variable label values, in the order of the vector's labels. */
  readonly labelValues: readonly string[];
  /** Sends its one metric. */
  collect(ch: (metric: Metric) => void): void;
}

/**
 * The children of a vector and its curried views, found by label values in a tree of
 * Maps, one level per label, so that a lookup builds no string: two `Map.get` for two
 * labels. `all` keeps them in creation order for collect (a stable order is what lets
 * the registry reuse last scrape's sort, see _family.ts).
 */
class Store<M extends VecChild> {
  readonly arity: number;
  root = new Map<string, unknown>();
  single: M | undefined;
  readonly all = new Set<M>();
  constructor(arity: number) {
    this.arity = arity;
  }
  find(values: readonly string[]): M | undefined {
    if (this.arity === 0) return this.single;
    let node: unknown = this.root;
    for (let i = 0; i < this.arity; i++) {
      node = (node as Map<string, unknown>).get(values[i]);
      if (node === undefined) return undefined;
    }
    return node as M;
  }
  add(values: readonly string[], m: M): void {
    this.all.add(m);
    if (this.arity === 0) {
      this.single = m;
      return;
    }
    let node = this.root;
    for (let i = 0; i < this.arity - 1; i++) {
      let next = node.get(values[i]) as Map<string, unknown> | undefined;
      if (next === undefined) node.set(values[i], next = new Map());
      node = next;
    }
    node.set(values[this.arity - 1], m);
  }
  delete(values: readonly string[]): boolean {
    const m = this.find(values);
    if (m === undefined) return false;
    this.all.delete(m);
    if (this.arity === 0) {
      this.single = undefined;
      return true;
    }
    // Remove the leaf, then every Map the removal left empty.
    const path: Map<string, unknown>[] = [this.root];
    for (let i = 0; i < this.arity - 1; i++) path.push(path[i].get(values[i]) as Map<string, unknown>);
    for (let i = this.arity - 1; i >= 0; i--) {
      path[i].delete(values[i]);
      if (path[i].size > 0) break;
    }
    return true;
  }
  clear(): void {
    this.root = new Map();
    this.single = undefined;
    this.all.clear();
  }
}

/**
 * A family of metrics of one kind partitioned by label values, as Go's
 * `prometheus.MetricVec` behind `CounterVec`, `GaugeVec`, `HistogramVec` and
 * `SummaryVec`. A child is created the first time its label values are asked for and
 * lives until deleted or reset. The vector is the Collector: register it, not the
 * children.
 *
 * Curried vectors ({@linkcode MetricVec.curryWith}) share the children of the vector
 * they come from; register only one of them (usually the uncurried one).
 *
 * @example
 * ```ts
 * const requests = newCounterVec({ name: "http_requests_total", help: "Requests." }, ["code", "method"]);
 * requests.withLabelValues("200", "GET").inc();
 * requests.deletePartialMatch({ method: "GET" });
 * ```
 */
export class MetricVec<M extends VecChild> implements Collector {
  /** The descriptor every child shares. */
  readonly desc: Desc;
  readonly #make: (labelValues: readonly string[]) => M;
  #store: Store<M>;
  /** Value per variable label index, or undefined where not curried; undefined when nothing is. */
  #curry: readonly (string | undefined)[] | undefined;
  /** Label values a caller passes: the variable labels not curried. */
  #free: number;

  /**
   * A vector of `desc`'s variable labels whose children `make` builds from their
   * label values. Used by `newCounterVec` and its siblings; build a vector of a metric
   * kind of your own the same way.
   */
  constructor(desc: Desc, make: (labelValues: readonly string[]) => M) {
    this.desc = desc;
    this.#make = make;
    this.#store = new Store(desc.variableLabels.length);
    this.#curry = undefined;
    this.#free = desc.variableLabels.length;
  }

  /** The collector's name: the metric name, with its constant labels if any. */
  get name(): string {
    return collectorNameOf(this.desc);
  }

  /** Sends the vector's one Desc. */
  describe(ch: (desc: Desc) => void): void {
    ch(this.desc);
  }

  /** Sends every child's metric. */
  collect(ch: (metric: Metric) => void): void {
    for (const m of this.#store.all) m.collect(ch);
  }

  /**
   * The child for these label values (in the order of the variable labels, curried
   * ones left out), created if new, as Go's `WithLabelValues`. Throws, naming the
   * metric and its labels, when the number of values is wrong or a value is not
   * valid UTF-8; use {@linkcode MetricVec.getMetricWithLabelValues} to get an error
   * instead.
   *
   * @example
   * ```ts
   * const requests = newCounterVec({ name: "http_requests_total", help: "Requests." }, ["code", "method"]);
   * requests.withLabelValues("200", "GET").inc();
   * ```
   */
  withLabelValues(...labelValues: string[]): M;
  // Label values are read from `arguments`: a rest parameter would allocate an array
  // per call, and the lookup of an existing child with up to three labels builds
  // nothing at all.
  withLabelValues(): M {
    const n = arguments.length;
    if (this.#curry === undefined && n === this.#free) {
      const s = this.#store;
      let found: M | undefined;
      if (n === 0) found = s.single;
      else if (n === 1) found = s.root.get(arguments[0]) as M | undefined;
      else if (n === 2) {
        found = (s.root.get(arguments[0]) as Map<string, unknown> | undefined)?.get(arguments[1]) as M | undefined;
      } else if (n === 3) {
        found = ((s.root.get(arguments[0]) as Map<string, unknown> | undefined)?.get(arguments[1]) as
          | Map<string, unknown>
          | undefined)
          ?.get(arguments[2]) as M | undefined;
      }
      if (found !== undefined) return found;
    }
    const values: string[] = [];
    for (let i = 0; i < n; i++) values.push(arguments[i]);
    const r = this.getMetricWithLabelValues(...values);
    if (r.error) throw r.error;
    return r.metric;
  }

  /**
   * The child for these label values, created if new, or an error naming the metric
   * and its labels when their number is wrong or one is not valid UTF-8, as Go's
   * `GetMetricWithLabelValues`.
   *
   * @example
   * ```ts
   * const { metric, error } = requests.getMetricWithLabelValues("200", "GET");
   * if (error) console.error(error.message);
   * else metric.inc();
   * ```
   */
  getMetricWithLabelValues(...labelValues: string[]): MetricResult<M> {
    const full = this.#fullValues(labelValues);
    if (full instanceof Error) return { error: full };
    return this.#getOrCreate(full);
  }

  /**
   * The child for these labels (every variable label not curried, no other), created
   * if new, as Go's `With`. Throws, naming the metric and the labels missing or
   * unknown; use {@linkcode MetricVec.getMetricWith} to get an error instead.
   *
   * @example
   * ```ts
   * requests.with({ code: "404", method: "GET" }).inc();
   * ```
   */
  with(labels: Labels): M {
    const r = this.getMetricWith(labels);
    if (r.error) throw r.error;
    return r.metric;
  }

  /**
   * The child for these labels, created if new, or an error naming the metric and
   * the labels missing or unknown, as Go's `GetMetricWith`.
   *
   * @example
   * ```ts
   * const { metric, error } = requests.getMetricWith({ code: "200", method: "GET" });
   * if (!error) metric.inc();
   * ```
   */
  getMetricWith(labels: Labels): MetricResult<M> {
    const full = this.#valuesFromLabels(labels);
    if (full instanceof Error) return { error: full };
    return this.#getOrCreate(full);
  }

  /**
   * A vector with `labels` fixed, sharing this one's children, as Go's `CurryWith`:
   * its `withLabelValues` takes the remaining label values, in order. Returns an error
   * naming the label when one is already curried or is not a variable label.
   *
   * @example
   * ```ts
   * const { metric: gets } = requests.curryWith({ method: "GET" });
   * gets!.withLabelValues("200").inc(); // http_requests_total{code="200",method="GET"}
   * ```
   */
  curryWith(labels: Labels): MetricResult<MetricVec<M>> {
    const names = this.desc.variableLabels;
    const old = this.#curry;
    const curry: (string | undefined)[] = names.map((_, i) => old?.[i]);
    for (const name in labels) {
      const i = names.indexOf(name);
      if (i < 0) {
        return {
          error: this.#err(`label name ${JSON.stringify(name)} is not a variable label, found during currying`),
        };
      }
      if (curry[i] !== undefined) return { error: this.#err(`label name ${JSON.stringify(name)} is already curried`) };
      const v = labels[name];
      if (typeof v !== "string" || !v.isWellFormed()) {
        return { error: this.#err(`label ${name}: value ${JSON.stringify(v)} is not valid UTF-8`) };
      }
      curry[i] = v;
    }
    const v = new MetricVec<M>(this.desc, this.#make);
    v.#store = this.#store;
    v.#curry = curry;
    v.#free = curry.filter((c) => c === undefined).length;
    return { metric: v };
  }

  /**
   * As {@linkcode MetricVec.curryWith}, but throws the error, as Go's `MustCurryWith`.
   *
   * @example
   * ```ts
   * requests.mustCurryWith({ method: "GET" }).withLabelValues("200").inc();
   * ```
   */
  mustCurryWith(labels: Labels): MetricVec<M> {
    const r = this.curryWith(labels);
    if (r.error) throw r.error;
    return r.metric;
  }

  /**
   * Deletes the child with these label values; false when there is none or the
   * number of values is wrong, as Go's `DeleteLabelValues`.
   *
   * @example
   * ```ts
   * requests.deleteLabelValues("200", "GET");
   * ```
   */
  deleteLabelValues(...labelValues: string[]): boolean {
    const full = this.#fullValues(labelValues);
    return !(full instanceof Error) && this.#store.delete(full);
  }

  /**
   * Deletes the child with these labels; false when there is none or the labels do
   * not name exactly the variable labels not curried, as Go's `Delete`.
   *
   * @example
   * ```ts
   * requests.delete({ code: "200", method: "GET" });
   * ```
   */
  delete(labels: Labels): boolean {
    const full = this.#valuesFromLabels(labels);
    return !(full instanceof Error) && this.#store.delete(full);
  }

  /**
   * Deletes every child whose labels include all of `labels`, and returns how many,
   * as Go's `DeletePartialMatch`. A label that is not a variable one, or that this
   * vector has curried, matches nothing (as in Go); a curried vector deletes only
   * children with its curried values.
   *
   * @example
   * ```ts
   * requests.deletePartialMatch({ method: "GET" }); // every code of GET
   * ```
   */
  deletePartialMatch(labels: Labels): number {
    const names = this.desc.variableLabels;
    const curry = this.#curry;
    const want: [number, string][] = [];
    for (const name in labels) {
      const i = names.indexOf(name);
      if (i < 0 || curry?.[i] !== undefined) return 0;
      want.push([i, labels[name]]);
    }
    if (curry) curry.forEach((v, i) => v !== undefined && want.push([i, v]));
    const s = this.#store;
    const doomed: M[] = [];
    for (const m of s.all) {
      if (want.every(([i, v]) => m.labelValues[i] === v)) doomed.push(m);
    }
    for (const m of doomed) s.delete(m.labelValues);
    return doomed.length;
  }

  /** Deletes every child, also when called on a curried vector, as Go's `Reset`. */
  reset(): void {
    this.#store.clear();
  }

  #err(message: string): Error {
    return new Error(`metric ${JSON.stringify(this.desc.fqName)}: ${message}`);
  }

  /** All label values, curried ones merged in, or an error naming metric and labels. */
  #fullValues(given: readonly string[]): readonly string[] | Error {
    const curry = this.#curry, names = this.desc.variableLabels;
    const free = this.#free;
    if (given.length !== free) {
      const freeNames = curry ? names.filter((_, i) => curry[i] === undefined) : names;
      return this.#err(
        `inconsistent label cardinality: expected ${free} label values (${
          freeNames.join(", ")
        }) but got ${given.length} in ${JSON.stringify(given)}`,
      );
    }
    if (!curry) return given;
    const full: string[] = [];
    let k = 0;
    for (let i = 0; i < names.length; i++) full.push(curry[i] ?? given[k++]);
    return full;
  }

  #valuesFromLabels(labels: Labels): readonly string[] | Error {
    const curry = this.#curry, names = this.desc.variableLabels;
    const full: string[] = [];
    const missing: string[] = [];
    for (let i = 0; i < names.length; i++) {
      const v = Object.hasOwn(labels, names[i]) ? labels[names[i]] : undefined;
      if (curry?.[i] !== undefined) {
        if (v !== undefined) return this.#err(`label name ${JSON.stringify(names[i])} is already curried`);
        full.push(curry[i]!);
      } else if (v === undefined) missing.push(names[i]);
      else full.push(v);
    }
    const unknown = Object.keys(labels).filter((n) => !names.includes(n));
    if (missing.length || unknown.length) {
      const parts: string[] = [];
      if (unknown.length) parts.push(`unknown label name(s) ${unknown.map((n) => JSON.stringify(n)).join(", ")}`);
      if (missing.length) {
        parts.push(`label name(s) ${missing.map((n) => JSON.stringify(n)).join(", ")} missing in label map`);
      }
      return this.#err(`${parts.join("; ")}; the variable labels are ${names.join(", ") || "none"}`);
    }
    return full;
  }

  #getOrCreate(full: readonly string[]): MetricResult<M> {
    const s = this.#store;
    const found = s.find(full);
    if (found !== undefined) return { metric: found };
    try {
      checkLabelValues(this.desc, full);
    } catch (e) {
      return { error: e as Error };
    }
    const values = Object.freeze(full.slice());
    const m = this.#make(values);
    s.add(values, m);
    return { metric: m };
  }
}

// Always gathered, without a --collector flag or scrape_collector series (collector.ts).
markMetricWithState(MetricVec.prototype);
