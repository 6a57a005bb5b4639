// The command-line parser, in kingpin's style as the Prometheus ecosystem uses it:
// FlagDef is one flag's definition, parseArgs parses arguments and environment against
// a list of them, usage prints kingpin's help. FlagSet is how an exporter defines its
// own flags and reads them typed after parsing, as `kingpin.Flag(…).String()` does.

/** One command-line flag, in kingpin's style as the Prometheus ecosystem uses it. */
export interface FlagDef {
  /** The name without dashes: `web.listen-address`. */
  readonly name: string;
  /** One line for `--help` and the README's flag table. */
  readonly help: string;
  /** How the value is parsed; bool flags also take `--no-<name>`. */
  readonly kind: "string" | "bool" | "int" | "float" | "duration" | "enum" | "url";
  /** The value when neither the command line nor the environment sets it; durations in ms. */
  readonly default: string | boolean | number | readonly string[] | readonly number[];
  /** May be given several times; the value is then an array, in order. */
  readonly repeatable?: boolean;
  /** The values an enum flag accepts. */
  readonly choices?: readonly string[];
  /**
   * An action such as --help: not read from the environment, and when it is set,
   * required flags may be missing (`--help` works without `--upstream.url`).
   */
  readonly noEnv?: boolean;
  /** Must be set, on the command line or in the environment; kingpin's `Required()`. */
  readonly required?: boolean;
  /** The environment variable, instead of the identity's prefix and the flag's name; "" for none. */
  readonly env?: string;
  /** A one-letter alias, `-h` for `--help`. */
  readonly short?: string;
}

/** The parsed flags, by name. */
export type FlagValues = Record<string, string | boolean | number | string[] | number[]>;

/** The error for a bad command line: the message names the flag and the value. */
export class FlagError extends Error {
  /** An error with `message`, which names the flag and the value. */
  constructor(message: string) {
    super(message);
    this.name = "FlagError";
  }
}

/** Parses `30s`, `1m30s`, `500ms` or bare seconds into milliseconds. */
export function parseDuration(s: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let last = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * units[m[2]];
    last = re.lastIndex;
  }
  return last === s.length && s !== "" ? total : undefined;
}

function convert(def: FlagDef, raw: string): string | number | boolean {
  const bad = (why: string) => new FlagError(`invalid value ${JSON.stringify(raw)} for flag --${def.name}: ${why}`);
  switch (def.kind) {
    case "bool":
      if (raw === "true") return true;
      if (raw === "false") return false;
      throw bad("expected true or false");
    case "int": {
      if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw bad("expected an integer");
      return Number(raw);
    }
    case "float": {
      const n = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(n)) throw bad("expected a number");
      return n;
    }
    case "duration": {
      const ms = parseDuration(raw);
      if (ms === undefined) throw bad("expected a duration such as 10s, 1m or 500ms");
      return ms;
    }
    case "enum":
      if (!def.choices!.includes(raw)) throw bad(`expected one of ${def.choices!.join(", ")}`);
      return raw;
    case "url":
      if (!URL.canParse(raw)) throw bad("expected an absolute URL such as http://host:port/path");
      return raw;
    default:
      return raw;
  }
}

/** The tutorial's prefix of environment variables; an identity may set another. */
export const defaultEnvPrefix = "EXPORTER_";

/**
 * The environment variable that sets a flag: `--web.listen-address` →
 * `EXPORTER_WEB_LISTEN_ADDRESS`, or with the prefix `UPSTREAM_EXPORTER_`,
 * `--upstream.url` → `UPSTREAM_EXPORTER_UPSTREAM_URL`.
 */
export function envName(flag: string, prefix: string = defaultEnvPrefix): string {
  return prefix + flag.toUpperCase().replace(/[.-]/g, "_");
}

/** The variable that sets `def` (its own `env`, else the prefix's), or undefined for an action. */
export function flagEnv(def: FlagDef, prefix: string = defaultEnvPrefix): string | undefined {
  return def.noEnv || def.env === "" ? undefined : def.env ?? envName(def.name, prefix);
}

/**
 * Parses `args` against `defs`: `--name=value`, `--name value`, `--flag`/`--no-flag`
 * for booleans, `-h` for a flag with `short: "h"`, repeatable flags given several
 * times. A flag not on the command line is taken from its environment variable (see
 * {@linkcode flagEnv}; a repeatable one splits at commas), then its default. Throws
 * {@linkcode FlagError} naming the culprit for anything else, and for a required flag
 * that is missing while no action (--help, --version…) is set.
 */
export function parseArgs(
  defs: readonly FlagDef[],
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  envPrefix: string = defaultEnvPrefix,
): FlagValues {
  const byName = new Map(defs.map((d) => [d.name, d]));
  const byShort = new Map(defs.filter((d) => d.short).map((d) => [d.short!, d]));
  const values: FlagValues = {};
  const seen = new Set<string>();
  const set = (def: FlagDef, raw: string) => {
    const v = convert(def, raw);
    if (def.repeatable) {
      if (!seen.has(def.name)) values[def.name] = [];
      (values[def.name] as (string | number)[]).push(v as string | number);
    } else if (seen.has(def.name)) {
      throw new FlagError(`flag --${def.name} given more than once`);
    } else values[def.name] = v;
    seen.add(def.name);
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const short = /^-([A-Za-z])$/.exec(arg);
    if (short) {
      const def = byShort.get(short[1]);
      if (!def) throw new FlagError(`unknown short flag ${arg}`);
      if (def.kind === "bool") set(def, "true");
      else if (i + 1 < args.length) set(def, args[++i]);
      else throw new FlagError(`flag ${arg} (--${def.name}) needs a value`);
      continue;
    }
    if (!arg.startsWith("--") || arg === "--") {
      throw new FlagError(`unexpected argument ${JSON.stringify(arg)}`);
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const def = byName.get(name);
    if (!def && name.startsWith("no-") && eq < 0) {
      const neg = byName.get(name.slice(3));
      if (neg?.kind === "bool") {
        set(neg, "false");
        continue;
      }
    }
    if (!def) throw new FlagError(`unknown flag --${name}`);
    if (eq >= 0) set(def, arg.slice(eq + 1));
    else if (def.kind === "bool") set(def, "true");
    else if (i + 1 < args.length) set(def, args[++i]);
    else throw new FlagError(`flag --${name} needs a value`);
  }
  const missing: string[] = [];
  for (const def of defs) {
    if (seen.has(def.name)) continue;
    const variable = flagEnv(def, envPrefix);
    const fromEnv = variable === undefined ? undefined : env[variable];
    if (fromEnv !== undefined && fromEnv !== "") {
      if (def.repeatable) {
        for (const part of fromEnv.split(",")) set(def, part.trim());
      } else set(def, fromEnv);
      continue;
    }
    if (def.required) missing.push(`--${def.name}`);
    values[def.name] = Array.isArray(def.default) ? [...def.default] : def.default as string | number | boolean;
  }
  // As kingpin: an action such as --help runs whatever else is missing.
  const action = defs.some((d) => d.noEnv && values[d.name] !== d.default);
  if (missing.length && !action) {
    throw new FlagError(`required flag(s) ${missing.map((m) => `'${m}'`).join(", ")} not provided`);
  }
  return values;
}

/** A flag's default as shown in usage and the README. */
export function formatDefault(d: FlagDef): string {
  if (Array.isArray(d.default)) {
    return d.kind === "duration" ? d.default.map((v) => formatMs(Number(v))).join(", ") : d.default.join(", ");
  }
  if (d.kind === "duration") return formatMs(Number(d.default));
  if (d.default === "") return '""';
  return String(d.default);
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 || ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * kingpin's placeholder after `=`: the default (quoted for a string), else the name
 * in capitals; ` ...` follows for a repeatable flag.
 */
function placeholder(d: FlagDef): string {
  const hasDefault = Array.isArray(d.default) ? d.default.length > 0 : d.default !== "" && !d.required;
  let p: string;
  if (d.kind === "enum" && !hasDefault) p = d.choices!.join("|");
  else if (!hasDefault) p = d.name.toUpperCase();
  else if (Array.isArray(d.default)) {
    p = (d.kind === "duration" ? formatMs(Number(d.default[0])) : String(d.default[0])) +
      (d.default.length > 1 ? "..." : "");
  } else if (d.kind === "string") p = JSON.stringify(d.default);
  else p = formatDefault(d);
  return p + (d.repeatable ? " ..." : "");
}

/**
 * The usage text, in kingpin's layout: the summary line names the required flags, then
 * one row a flag in the order defined — `-h, --[no-]help` first, as kingpin defines it
 * with the application, and `--version` last, as `kingpin.Version()` comes last in a
 * Prometheus exporter's main — each with its default as the placeholder (quoted for
 * strings), its help and `($VARIABLE)`.
 */
export function usage(program: string, defs: readonly FlagDef[], envPrefix: string = defaultEnvPrefix): string {
  const last = ["help", "version"];
  const ordered = [
    ...defs.filter((d) => d.name === "help"),
    ...defs.filter((d) => !last.includes(d.name)),
    ...defs.filter((d) => d.name === "version"),
  ];
  const haveShort = ordered.some((d) => d.short);
  const required = ordered.filter((d) => d.required).map((d) =>
    d.kind === "bool" ? `--[no-]${d.name}` : `--${d.name}=${placeholder(d)}`
  );
  const summary = [program, ...required, ...(required.length < ordered.length ? ["[<flags>]"] : [])].join(" ");
  const rows = ordered.map((d): [string, string] => {
    const name = d.kind === "bool" ? `--[no-]${d.name}` : `--${d.name}=${placeholder(d)}`;
    const left = d.short ? `-${d.short}, ${name}` : haveShort ? `    ${name}` : name;
    const choices = d.kind === "enum" ? ` One of: ${d.choices!.join(", ")}.` : "";
    const variable = flagEnv(d, envPrefix);
    return [left, `${d.help}${choices}${variable === undefined ? "" : ` ($${variable})`}`];
  });
  // Two columns, as kingpin's; a left column too wide puts its help on the next line.
  const width = Math.min(40, Math.max(...rows.map(([l]) => l.length)));
  const lines = [`usage: ${summary}`, "", "Flags:"];
  for (const [l, r] of rows) {
    if (l.length <= width) lines.push(`  ${l.padEnd(width)}  ${r}`);
    else lines.push(`  ${l}`, `  ${"".padEnd(width)}  ${r}`);
  }
  return lines.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------
// An exporter's own flags.

/** What every flag of an exporter's own may say; kingpin's `Flag(name, help)` clauses. */
export interface FlagOptions<T> {
  /** One sentence for `--help` and the README. */
  readonly help: string;
  /** The value when neither the command line nor the environment sets it. */
  readonly default?: T;
  /** Refuse to start without it, as kingpin's `Required()`; then it takes no default. */
  readonly required?: boolean;
  /**
   * The environment variable: by default the identity's prefix and the name
   * (`UPSTREAM_EXPORTER_UPSTREAM_URL` for `--upstream.url`); another name, or false for none.
   */
  readonly env?: string | false;
}

/** A duration: milliseconds, or a string such as "5s", "1m30s", "500ms". */
export type DurationDefault = number | string;

/**
 * Reads a flag's parsed value, as Go's `*upstreamURL` after `kingpin.Parse()`. Reading
 * it before the flags are parsed throws, naming the flag.
 */
export interface FlagValue<T> {
  (): T;
  /** The flag's name, without the dashes. */
  readonly flag: string;
}

const parsed = new WeakMap<FlagSet, FlagValues>();

/**
 * An exporter's own flags, defined next to the kit's, as kingpin's
 * `kingpin.Flag("upstream.url", "…").Required().String()`. Each method adds one flag
 * and returns a {@linkcode FlagValue} to read once `parseFlags` has run; the value is
 * typed by the method (an enum's by its choices). The module-level {@linkcode flag}
 * is the set `parseFlags()` reads by default, as kingpin's `CommandLine`.
 *
 * @example
 * ```ts
 * const upstream = flag.string("upstream.url", { help: "URL of the JSON document to export.", required: true });
 * const timeout = flag.duration("upstream.timeout", { help: "Deadline of one request.", default: "5s" });
 * const mode = flag.enum("upstream.mode", { help: "How to read it.", choices: ["json", "text"], default: "json" });
 * const flags = await parseFlags();
 * upstream(); // string
 * mode();     // "json" | "text"
 * ```
 */
export class FlagSet {
  /** The definitions added so far, in order. */
  readonly defs: FlagDef[] = [];

  /** A string flag; "" by default. */
  string(name: string, o: FlagOptions<string>): FlagValue<string> {
    return this.#add<string>(name, o, { kind: "string", default: o.default ?? "" });
  }

  /** A repeatable string flag (`--x=a --x=b`, or `a,b` in its variable); kingpin's `Strings()`. */
  strings(name: string, o: FlagOptions<readonly string[]>): FlagValue<string[]> {
    return this.#add<string[]>(name, o, { kind: "string", repeatable: true, default: [...(o.default ?? [])] });
  }

  /**
   * An absolute URL, checked when parsed (kingpin's `URL()`); read as a fresh `URL`.
   * Without a default and not required, reading it throws when it was not given.
   */
  url(name: string, o: FlagOptions<string>): FlagValue<URL> {
    if (o.default !== undefined && !URL.canParse(o.default)) {
      this.#refuse(name, `default ${JSON.stringify(o.default)} is not a URL`);
    }
    const raw = this.#add<string>(name, o, { kind: "url", default: o.default ?? "" });
    return Object.assign(() => {
      const v = raw();
      if (v === "") throw new Error(`flag --${name} was not given and has no default`);
      return new URL(v);
    }, { flag: name });
  }

  /** An integer flag; 0 by default. A value that is not an integer is refused. */
  int(name: string, o: FlagOptions<number>): FlagValue<number> {
    if (o.default !== undefined && !Number.isSafeInteger(o.default)) {
      this.#refuse(name, `default ${o.default} is not an integer`);
    }
    return this.#add<number>(name, o, { kind: "int", default: o.default ?? 0 });
  }

  /** A floating-point flag; 0 by default. */
  float(name: string, o: FlagOptions<number>): FlagValue<number> {
    return this.#add<number>(name, o, { kind: "float", default: o.default ?? 0 });
  }

  /** A boolean flag, `--name` / `--no-name`; false by default. */
  bool(name: string, o: Omit<FlagOptions<boolean>, "required">): FlagValue<boolean> {
    return this.#add<boolean>(name, o, { kind: "bool", default: o.default ?? false });
  }

  /** A duration flag (`10s`, `1m30s`, `500ms`, bare seconds), read in milliseconds; 0 by default. */
  duration(name: string, o: FlagOptions<DurationDefault>): FlagValue<number> {
    let ms = 0;
    if (typeof o.default === "number") ms = o.default;
    else if (o.default !== undefined) {
      const d = parseDuration(o.default);
      if (d === undefined) this.#refuse(name, `default ${JSON.stringify(o.default)} is not a duration`);
      ms = d;
    }
    return this.#add<number>(name, o, { kind: "duration", default: ms });
  }

  /** One of `choices`; the first choice by default. */
  enum<const C extends readonly [string, ...string[]]>(
    name: string,
    o: FlagOptions<C[number]> & { readonly choices: C },
  ): FlagValue<C[number]> {
    if (o.default !== undefined && !o.choices.includes(o.default)) {
      this.#refuse(name, `default ${JSON.stringify(o.default)} is not one of ${o.choices.join(", ")}`);
    }
    return this.#add<C[number]>(name, o, { kind: "enum", choices: o.choices, default: o.default ?? o.choices[0] });
  }

  /** A repeatable enum flag; kingpin's `Enums()`. */
  enums<const C extends readonly [string, ...string[]]>(
    name: string,
    o: FlagOptions<readonly C[number][]> & { readonly choices: C },
  ): FlagValue<C[number][]> {
    const bad = o.default?.find((d) => !o.choices.includes(d));
    if (bad !== undefined) this.#refuse(name, `default ${JSON.stringify(bad)} is not one of ${o.choices.join(", ")}`);
    return this.#add<C[number][]>(name, o, {
      kind: "enum",
      repeatable: true,
      choices: o.choices,
      default: [...(o.default ?? [])],
    });
  }

  #refuse(name: string, why: string): never {
    throw new Error(`flag --${name}: ${why}`);
  }

  #add<T>(
    name: string,
    o: {
      readonly help: string;
      readonly required?: boolean;
      readonly env?: string | false;
      readonly default?: unknown;
    },
    def: Pick<FlagDef, "kind" | "default" | "repeatable" | "choices">,
  ): FlagValue<T> {
    if (!/^[a-z0-9][a-z0-9_-]*(\.[a-z0-9_-]+)*$/i.test(name)) {
      this.#refuse(name, "a name is letters, digits, '_' and '-', in parts joined by '.'");
    }
    if (name.startsWith("no-")) this.#refuse(name, "a name may not start with no-, which negates booleans");
    if (this.defs.some((d) => d.name === name)) this.#refuse(name, "defined twice");
    if (!o.help) this.#refuse(name, "needs a help sentence");
    // kingpin: "required flag '--x' with default value that will never be used".
    if (o.required && o.default !== undefined) {
      this.#refuse(name, "is required and has a default, which would never be used");
    }
    this.defs.push({
      name,
      help: o.help,
      ...def,
      ...(o.required ? { required: true } : {}),
      ...(typeof o.env === "string" ? { env: o.env } : o.env === false ? { env: "" } : {}),
    });
    const read = (): T => {
      const values = parsed.get(this);
      if (!values) throw new Error(`flag --${name} read before parseFlags() parsed the command line`);
      return values[name] as T;
    };
    return Object.assign(read, { flag: name });
  }
}

/**
 * Stores the values `parseFlags` parsed for `set`, so that its accessors return them.
 * Internal to the kit: parseFlags calls it.
 */
export function setParsedValues(set: FlagSet, values: FlagValues): void {
  parsed.set(set, values);
}

/**
 * The exporter's own flags that `parseFlags()` reads by default, as kingpin's
 * `CommandLine`: `const url = flag.string("upstream.url", {…})`.
 */
export const flag: FlagSet = new FlagSet();

/**
 * The Markdown table of `defs` for a README: flag, default, environment variable and
 * meaning, one row a flag in the order given, so that a README cannot drift from the
 * flags (`scripts/readme_flags.ts` writes the kit's; an exporter's test can compare its
 * own README with it).
 */
export function flagTable(defs: readonly FlagDef[], envPrefix: string = defaultEnvPrefix): string {
  const rows = defs.map((d) => {
    const flag = d.kind === "bool" ? `--[no-]${d.name}` : `--${d.name}`;
    const def = d.required ? "required" : d.kind === "bool" ? (d.default ? "on" : "off") : `\`${formatDefault(d)}\``;
    const more = d.repeatable ? " Repeatable." : d.kind === "enum" ? ` One of ${d.choices!.join(", ")}.` : "";
    const variable = flagEnv(d, envPrefix);
    return `| \`${flag}\` | ${def} | ${variable === undefined ? "–" : `\`${variable}\``} | ${d.help}${more} |`;
  });
  return ["| flag | default | environment | meaning |", "| --- | --- | --- | --- |", ...rows].join("\n");
}
