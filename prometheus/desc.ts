import { isValidLabelName, isValidMetricName, isValidUTF8 } from "./_labels.ts";
import { escapeLabelValue } from "./_bytes.ts";
import { escapeNameIfNeeded, type EscapingScheme, isLegacyName } from "./escaping.ts";

/** Constant label pairs of a Desc, as Go's `prometheus.Labels`. */
export type Labels = Record<string, string>;

/** Optional parts of a Desc, as Go's `DescOpt`s. */
export interface DescOpts {
  /**
   * The unit of the metric, as Go's `WithUnit`: written as `# UNIT` in OpenMetrics
   * and as the `unit` field in protobuf; the text format has no place for it.
   */
  readonly unit?: string;
}

/**
 * Desc is the descriptor of a metric family: its fully-qualified name, help text,
 * constant labels and the names of its variable labels. It is immutable.
 *
 * A Desc built from invalid input does not throw: like client_golang, it carries the
 * error in {@linkcode Desc.err}, and registering a collector that describes it, or
 * building a metric from it, fails with that error.
 */
export class Desc {
  /** The fully-qualified metric name, e.g. `foo_metric`. */
  readonly fqName: string;
  /** The help text, shown after `# HELP`. */
  readonly help: string;
  /** Constant labels, present on every series of this Desc. */
  readonly constLabels: Readonly<Labels>;
  /** Names of the variable labels, in the order label values are passed. */
  readonly variableLabels: readonly string[];
  /** The unit (`# UNIT` in OpenMetrics), or "" for none. */
  readonly unit: string;
  /** Why this Desc is invalid, or undefined when it is valid. */
  readonly err: Error | undefined;
  /** Identifies the Desc in a registry: name plus constant label values. */
  readonly id: string;
  /** Identifies the dimensions: help plus the sorted set of all label names. */
  readonly dimHash: string;

  /**
   * @internal The label set of a series is written, sorted by label name, as
   * `_segments[0] + value[_order[0]] + _segments[1] + … + _segments[n]`, so that a
   * series costs one escape per variable value and no sorting.
   */
  readonly _segments: readonly string[];
  /** @internal See {@linkcode Desc._segments}. */
  readonly _order: readonly number[];
  /** @internal Whether every label name is a legacy name, so that no scheme changes it. */
  readonly _legacyLabels: boolean;
  /** @internal `_segments` with label names as each escaping scheme writes them. */
  #segmentsBy: Map<EscapingScheme, readonly string[]> | undefined;

  /**
   * A Desc; {@linkcode newDesc} is the usual way to make one. An invalid name, label
   * or unit does not throw: it is kept in {@linkcode Desc.err}.
   */
  constructor(
    fqName: string,
    help: string,
    variableLabels: readonly string[] = [],
    constLabels: Labels = {},
    opts: DescOpts = {},
  ) {
    this.fqName = fqName;
    this.help = help;
    this.unit = opts.unit ?? "";
    // Loops rather than map, every and forEach, and no copy or sort of an empty set:
    // Descs are made at start-up, where the first call of each such builtin costs
    // 0.05–0.4 ms (compiled at first use), and --version and --healthcheck pay it too.
    const constNames = Object.keys(constLabels);
    this.constLabels = Object.freeze(constNames.length ? { ...constLabels } : {});
    this.variableLabels = Object.freeze([...variableLabels]);
    this.err = validate(fqName, help, this.variableLabels, this.constLabels, this.unit);
    if (constNames.length > 1) constNames.sort();
    let id = fqName + "\u0000";
    for (let i = 0; i < constNames.length; i++) {
      id += (i ? "\u0000" : "") + constNames[i] + "\u0001" + this.constLabels[constNames[i]];
    }
    this.id = id;
    // As client_golang's dimHash: help, unit and the label names.
    const names = constNames.concat(this.variableLabels);
    if (names.length > 1) names.sort();
    this.dimHash = help + "\u0000" + this.unit + "\u0000" + names.join("\u0000");
    let legacy = true;
    for (const n of names) legacy &&= isLegacyName(n);
    this._legacyLabels = legacy;

    [this._segments, this._order] = this.#template((name) => name);
  }

  /**
   * The label-set template (`_segments`, `_order`) with each label name written by
   * `writeName`, in label-name order.
   */
  #template(writeName: (name: string) => string): [string[], number[]] {
    // Merge constant and variable labels in name order into a template.
    type Slot = { name: string; constValue?: string; index?: number };
    const slots: Slot[] = [];
    for (const name of Object.keys(this.constLabels)) slots.push({ name, constValue: this.constLabels[name] });
    for (let index = 0; index < this.variableLabels.length; index++) {
      slots.push({ name: this.variableLabels[index], index });
    }
    if (slots.length > 1) slots.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const segments: string[] = [];
    const order: number[] = [];
    let seg = "";
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i];
      const sep = i === 0 ? "" : ",";
      const name = writeName(slot.name);
      if (slot.index === undefined) {
        seg += `${sep}${name}="${escapeLabelValue(slot.constValue!)}"`;
      } else {
        segments.push(`${seg}${sep}${name}="`);
        order.push(slot.index);
        seg = '"';
      }
    }
    segments.push(seg);
    return [segments, order];
  }

  /**
   * @internal `_segments` with the label names as `scheme` writes them: quoted when
   * not legacy names under `allow-utf-8` (`"service.name"="api"`), escaped otherwise.
   * The order of `_order` holds for all: escaping keeps the labels' order, as Go's.
   */
  _segmentsFor(scheme: EscapingScheme): readonly string[] {
    if (this._legacyLabels) return this._segments;
    this.#segmentsBy ??= new Map();
    let segs = this.#segmentsBy.get(scheme);
    if (!segs) {
      const write = scheme === "allow-utf-8"
        ? (n: string) => (isLegacyName(n) ? n : `"${escapeLabelValue(n)}"`)
        : (n: string) => escapeNameIfNeeded(n, scheme);
      this.#segmentsBy.set(scheme, segs = this.#template(write)[0]);
    }
    return segs;
  }

  /** Describes the Desc as client_golang does, for error messages. */
  toString(): string {
    const cl = Object.entries(this.constLabels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(",");
    return `Desc{fqName: ${JSON.stringify(this.fqName)}, help: ${JSON.stringify(this.help)}, ` +
      `constLabels: {${cl}}, variableLabels: [${this.variableLabels.join(" ")}]}`;
  }
}

function validate(
  fqName: string,
  help: string,
  variableLabels: readonly string[],
  constLabels: Labels,
  unit: string,
): Error | undefined {
  if (typeof fqName !== "string" || !isValidMetricName(fqName)) {
    return new Error(`${JSON.stringify(fqName)} is not a valid metric name`);
  }
  const where = `metric ${JSON.stringify(fqName)}`;
  if (typeof help !== "string" || !isValidUTF8(help)) {
    return new Error(`${where}: help text is not valid UTF-8`);
  }
  if (typeof unit !== "string" || !isValidUTF8(unit)) {
    return new Error(`${where}: unit is not valid UTF-8`);
  }
  const constNames = Object.keys(constLabels);
  if (constNames.length === 0 && variableLabels.length === 0) return undefined;
  const seen = new Set<string>();
  for (const name of constNames) {
    const value = constLabels[name];
    if (!isValidLabelName(name)) {
      return new Error(`${where}: ${JSON.stringify(name)} is not a valid label name`);
    }
    if (typeof value !== "string" || !isValidUTF8(value)) {
      return new Error(`${where}: constant label ${name} has a value that is not a valid UTF-8 string`);
    }
    seen.add(name);
  }
  for (const name of variableLabels) {
    if (typeof name !== "string" || !isValidLabelName(name)) {
      return new Error(`${where}: ${JSON.stringify(name)} is not a valid label name`);
    }
    if (seen.has(name)) {
      return new Error(`${where}: duplicate label name ${JSON.stringify(name)}`);
    }
    seen.add(name);
  }
  return undefined;
}

/**
 * Returns a new Desc, as Go's `prometheus.NewDesc` (with `opts`, `V2.NewDesc` and its
 * `WithUnit`). Metric and label names are any non-empty valid UTF-8, as client_golang
 * 1.24+ (label names must not start with `__`); names beyond the legacy grammar are
 * quoted or escaped as the scraper asks (see `EscapingScheme`). Invalid input is not
 * thrown here but reported when the Desc is registered or used; see {@linkcode Desc}.
 *
 * @example
 * ```ts
 * const fooDesc = newDesc("foo_metric", "Shows whether a foo has occurred in our cluster");
 * const reqDesc = newDesc("app_requests_total", "Requests served.", ["code"], { app: "api" });
 * const otel = newDesc("http.server.duration", "OpenTelemetry's name.", ["service.name"], null, { unit: "seconds" });
 * ```
 */
export function newDesc(
  fqName: string,
  help: string,
  variableLabels?: readonly string[] | null,
  constLabels?: Labels | null,
  opts?: DescOpts,
): Desc {
  return new Desc(fqName, help, variableLabels ?? [], constLabels ?? {}, opts ?? {});
}

/**
 * Joins namespace, subsystem and name with underscores, skipping empty parts, as Go's
 * `prometheus.BuildFQName`.
 */
export function buildFQName(namespace: string, subsystem: string, name: string): string {
  if (name === "") return "";
  return [namespace, subsystem, name].filter((p) => p !== "").join("_");
}
