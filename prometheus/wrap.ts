import { type Collector, collectorName, copyMarks, isSelectable } from "./collector.ts";
import { Desc, type Labels } from "./desc.ts";
import { AlreadyRegisteredError } from "./registry.ts";
import { type Metric, newInvalidMetric } from "./value.ts";

/**
 * What collectors are registered with, as Go's `prometheus.Registerer`: a
 * {@linkcode Registry}, or a wrapper around one ({@linkcode wrapRegistererWith}).
 */
export interface Registerer {
  /** Registers `c`; throws, naming the culprit, when it cannot be (see Registry.register). */
  register(c: Collector): void;
  /** Registers each of `cs`, throwing on the first failure. */
  mustRegister(...cs: Collector[]): void;
  /** Unregisters `c`; returns whether it was registered. */
  unregister(c: Collector): boolean;
}

/** A collector as a wrapping registerer hands it on: its Descs and metrics relabelled or renamed. */
class WrappingCollector implements Collector {
  readonly inner: Collector;
  readonly name: string;
  readonly timeoutMs: number | undefined;
  readonly #prefix: string;
  readonly #labels: Readonly<Labels>;
  /** Wrapped Descs by original: a Desc is wrapped once, and the same Desc object returns. */
  readonly #descs = new WeakMap<Desc, Desc>();

  constructor(inner: Collector, prefix: string, labels: Readonly<Labels>) {
    this.inner = inner;
    this.name = isSelectable(inner) ? prefix + collectorName(inner) : wrappedName(collectorName(inner), prefix, labels);
    this.timeoutMs = inner.timeoutMs;
    this.#prefix = prefix;
    this.#labels = labels;
    copyMarks(inner, this);
  }

  #wrap(desc: Desc): Desc {
    let w = this.#descs.get(desc);
    if (w !== undefined) return w;
    const constLabels: Labels = { ...desc.constLabels };
    let clash: string | undefined;
    for (const name in this.#labels) {
      if (Object.hasOwn(constLabels, name) && clash === undefined) clash = name;
      constLabels[name] = this.#labels[name];
    }
    w = new Desc(
      this.#prefix + desc.fqName,
      desc.help,
      desc.variableLabels,
      clash === undefined ? constLabels : desc.constLabels,
    );
    if (clash !== undefined || desc.err) {
      const err = desc.err ?? new Error(`attempted wrapping with already existing label name ${JSON.stringify(clash)}`);
      // A Desc carrying the error: registering it fails with this message.
      Object.defineProperty(w, "err", { value: err });
    }
    this.#descs.set(desc, w);
    return w;
  }

  describe(ch: (desc: Desc) => void): void {
    this.inner.describe((d) => ch(this.#wrap(d)));
  }

  collect(ch: (metric: Metric) => void, signal: AbortSignal): void | Promise<void> {
    return this.inner.collect((m) => {
      const desc = this.#wrap(m.desc);
      if (desc.err) {
        ch(newInvalidMetric(desc, desc.err));
        return;
      }
      // The metric as it is but for its Desc: fields are read through the prototype,
      // so a const metric stays one (the registry's column path) and exemplars and
      // timestamps are kept. The Desc's labels are written from the Desc, so the
      // wrapping labels and prefix follow.
      const w = Object.create(m) as { desc: Desc };
      w.desc = desc;
      ch(w as unknown as Metric);
    }, signal);
  }
}

/**
 * The wrapped collector's name: prefixed, and with the wrapping labels, so that one
 * collector registered through two wrappers (two shards, say) goes by two names.
 */
/**
 * The name of a wrapped metric with state: its metric name as the wrapper exposes it,
 * labels included. A selectable collector keeps its own name (with the prefix), as it
 * names a flag: two instances wrapped with other labels need names of their own.
 */
function wrappedName(name: string, prefix: string, labels: Readonly<Labels>): string {
  const pairs = Object.keys(labels).sort().map((n) => `${n}=${JSON.stringify(labels[n])}`).join(",");
  if (pairs === "") return prefix + name;
  return name.endsWith("}") ? `${prefix}${name.slice(0, -1)},${pairs}}` : `${prefix}${name}{${pairs}}`;
}

/** Follows wrappers down to the collector a user registered. */
function unwrap(c: Collector): Collector {
  while (c instanceof WrappingCollector) c = c.inner;
  return c;
}

class WrappingRegisterer implements Registerer {
  readonly #to: Registerer | null | undefined;
  readonly #prefix: string;
  readonly #labels: Readonly<Labels>;
  /** One wrapper per collector, so that unregistering finds what registering added. */
  readonly #wrappers = new WeakMap<Collector, WrappingCollector>();

  constructor(to: Registerer | null | undefined, prefix: string, labels: Readonly<Labels>) {
    this.#to = to;
    this.#prefix = prefix;
    this.#labels = labels;
  }

  #wrapper(c: Collector): WrappingCollector {
    let w = this.#wrappers.get(c);
    if (!w) this.#wrappers.set(c, w = new WrappingCollector(c, this.#prefix, this.#labels));
    return w;
  }

  register(c: Collector): void {
    if (!this.#to) return;
    try {
      this.#to.register(this.#wrapper(c));
    } catch (e) {
      // As Go's: the existing collector is the one its user registered, unwrapped.
      if (e instanceof AlreadyRegisteredError) {
        const again = new AlreadyRegisteredError(unwrap(e.existingCollector), c, collectorName(c));
        again.message = e.message;
        throw again;
      }
      throw e;
    }
  }

  mustRegister(...cs: Collector[]): void {
    for (const c of cs) this.register(c);
  }

  unregister(c: Collector): boolean {
    if (!this.#to) return false;
    return this.#to.unregister(this.#wrapper(c));
  }
}

/**
 * A Registerer that adds `labels` as constant labels to every metric of every
 * collector registered through it, then registers it with `registerer`, as Go's
 * `prometheus.WrapRegistererWith`. A metric that has one of these labels already
 * cannot be registered ("attempted wrapping with already existing label name").
 * A null `registerer` makes registration do nothing, as Go's nil.
 *
 * @example
 * ```ts
 * const reg = new Registry();
 * const shard = wrapRegistererWith({ shard: "3" }, reg);
 * shard.mustRegister(newCounter({ name: "jobs_total", help: "Jobs." })); // jobs_total{shard="3"}
 * ```
 */
export function wrapRegistererWith(labels: Labels, registerer: Registerer | null | undefined): Registerer {
  return new WrappingRegisterer(registerer, "", Object.freeze({ ...labels }));
}

/**
 * A Registerer that prefixes the name of every metric of every collector registered
 * through it, then registers it with `registerer`, as Go's
 * `prometheus.WrapRegistererWithPrefix`. The prefix is taken as it is: include the
 * separating `_`.
 *
 * @example
 * ```ts
 * const reg = new Registry();
 * wrapRegistererWithPrefix("myapp_", reg).mustRegister(newGauge({ name: "queue_length", help: "Items." }));
 * // exposed as myapp_queue_length
 * ```
 */
export function wrapRegistererWithPrefix(prefix: string, registerer: Registerer | null | undefined): Registerer {
  return new WrappingRegisterer(registerer, prefix, Object.freeze({}));
}
