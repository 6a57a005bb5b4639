import { buildFQName, type Desc, type Labels, newDesc } from "./desc.ts";

/**
 * What every metric with state is built from, as Go's `prometheus.Opts`: the name is
 * `namespace_subsystem_name` (empty parts left out), `help` is required text, and
 * `constLabels` are fixed label pairs on every series.
 */
export interface Opts {
  /** The first part of the name, the application or library (`myapp`). */
  readonly namespace?: string;
  /** The middle part of the name, a component (`http`). */
  readonly subsystem?: string;
  /** The last part of the name (`requests_total`); the only one required. */
  readonly name: string;
  /** What the metric measures, shown after `# HELP`. */
  readonly help: string;
  /** Label pairs fixed on every series, as Go's `ConstLabels`. */
  readonly constLabels?: Labels;
}

/** Options of {@linkcode newCounter} and {@linkcode newCounterVec}, as Go's `prometheus.CounterOpts`. */
export type CounterOpts = Opts;
/** Options of {@linkcode newGauge} and {@linkcode newGaugeVec}, as Go's `prometheus.GaugeOpts`. */
export type GaugeOpts = Opts;
/** Options of {@linkcode newUntypedFunc}, as Go's `prometheus.UntypedOpts`. */
export type UntypedOpts = Opts;

/**
 * Builds the Desc of `opts` with `labelNames` as its variable labels. Unlike
 * `newDesc`, which carries an error for registration to report, it throws: a metric
 * with state is a program's constant, and its mistake is best found where it is made.
 */
export function descFromOpts(
  opts: Opts,
  labelNames: readonly string[],
  reserved?: { label: string; kind: string },
): Desc {
  if (opts === null || typeof opts !== "object") throw new TypeError(`metric options must be an object, got ${opts}`);
  const fqName = buildFQName(opts.namespace ?? "", opts.subsystem ?? "", opts.name);
  const desc = newDesc(fqName, opts.help, labelNames, opts.constLabels);
  if (desc.err) throw new Error(`descriptor ${desc} is invalid: ${desc.err.message}`);
  if (reserved && (labelNames.includes(reserved.label) || reserved.label in desc.constLabels)) {
    throw new Error(
      `metric ${JSON.stringify(fqName)}: ${
        JSON.stringify(reserved.label)
      } is not allowed as label name in ${reserved.kind}`,
    );
  }
  return desc;
}
