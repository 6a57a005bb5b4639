import { type Collector, collectorName, copyMarks } from "./collector.ts";
import type { Desc } from "./desc.ts";
import { AlreadyRegisteredError, Registry } from "./registry.ts";
import { labelCount, type Metric, newInvalidMetric } from "./value.ts";

/** A collector whose every metric is checked against the registry's described Descs. */
class CheckingCollector implements Collector {
  readonly inner: Collector;
  readonly name: string;
  readonly timeoutMs: number | undefined;
  readonly #registered: ReadonlyMap<string, number>;

  constructor(inner: Collector, registered: ReadonlyMap<string, number>) {
    this.inner = inner;
    this.name = collectorName(inner);
    this.timeoutMs = inner.timeoutMs;
    this.#registered = registered;
    copyMarks(inner, this);
  }

  describe(ch: (desc: Desc) => void): void {
    this.inner.describe(ch);
  }

  collect(ch: (metric: Metric) => void, signal: AbortSignal): void | Promise<void> {
    return this.inner.collect((m) => ch(this.#check(m)), signal);
  }

  #check(m: Metric): Metric {
    const d = m.desc;
    if (m.type === "invalid") return m;
    let problem: string | undefined;
    if (!this.#registered.has(d.id)) problem = `collected metric ${d.fqName} with unregistered descriptor ${d}`;
    else if (d.err) problem = `collected metric ${d.fqName} with invalid descriptor ${d}: ${d.err.message}`;
    else if (labelCount(m) !== d.variableLabels.length) {
      problem = `collected metric ${d.fqName} has ${labelCount(m)} label values ` +
        `but its Desc has ${d.variableLabels.length} variable labels`;
    } else if (m.type === "histogram" || m.type === "summary") {
      if (typeof m.count !== "number" || typeof m.sum !== "number") {
        problem = `collected metric ${d.fqName} has a count or sum that is not a number`;
      }
    } else if (typeof m.value !== "number") problem = `collected metric ${d.fqName} has a value that is not a number`;
    return problem === undefined ? m : newInvalidMetric(d, new Error(problem));
  }
}

/**
 * A Registry that also checks, at every gather, each collected metric against the
 * Descs registered in it, as Go's `prometheus.NewPedanticRegistry`: a metric of a Desc
 * no collector described (which an unchecked collector could otherwise send), or with
 * the wrong number of label values, fails its family with an error naming it. Meant for
 * tests of collectors; the checks cost time on every scrape.
 *
 * @example
 * ```ts
 * const reg = new PedanticRegistry();
 * reg.mustRegister(myCollector);
 * expect((await reg.gather()).errors).toEqual([]);
 * ```
 */
export class PedanticRegistry extends Registry {
  /** Described Desc ids and how many registered collectors describe each. */
  readonly #registered = new Map<string, number>();
  readonly #wrappers = new WeakMap<Collector, CheckingCollector>();

  #wrapper(c: Collector): CheckingCollector {
    let w = this.#wrappers.get(c);
    if (!w) this.#wrappers.set(c, w = new CheckingCollector(c, this.#registered));
    return w;
  }

  /** Registers `c` behind the checks; errors as {@linkcode Registry.register}'s, with the collectors unwrapped. */
  override register(c: Collector): void {
    try {
      super.register(this.#wrapper(c));
    } catch (e) {
      if (e instanceof AlreadyRegisteredError) {
        const inner = e.existingCollector instanceof CheckingCollector
          ? e.existingCollector.inner
          : e.existingCollector;
        const again = new AlreadyRegisteredError(inner, c, collectorName(c));
        again.message = e.message;
        throw again;
      }
      throw e;
    }
    const ids = new Set<string>();
    c.describe((d) => ids.add(d.id));
    for (const id of ids) this.#registered.set(id, (this.#registered.get(id) ?? 0) + 1);
  }

  /** Unregisters `c`; returns whether it was registered. */
  override unregister(c: Collector): boolean {
    if (!super.unregister(this.#wrapper(c))) return false;
    const ids = new Set<string>();
    c.describe((d) => ids.add(d.id));
    for (const id of ids) {
      const n = (this.#registered.get(id) ?? 1) - 1;
      if (n > 0) this.#registered.set(id, n);
      else this.#registered.delete(id);
    }
    return true;
  }

  /** The registered collectors (as their users registered them) with their names. */
  override collectors(): { name: string; collector: Collector }[] {
    return super.collectors().map(({ name, collector }) => ({
      name,
      collector: collector instanceof CheckingCollector ? collector.inner : collector,
    }));
  }
}

/**
 * Returns a {@linkcode PedanticRegistry}, as Go's `prometheus.NewPedanticRegistry`.
 *
 * @example
 * ```ts
 * const reg = newPedanticRegistry();
 * reg.mustRegister(myCollector);
 * const { errors } = await reg.gather(); // a metric of an undescribed Desc is reported here
 * ```
 */
export function newPedanticRegistry(): PedanticRegistry {
  return new PedanticRegistry();
}
