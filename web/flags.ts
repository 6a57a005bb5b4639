/** One command-line flag, in kingpin's style as the Prometheus ecosystem uses it. */
export interface FlagDef {
  readonly name: string;
  readonly help: string;
  readonly kind: "string" | "bool" | "int" | "duration" | "enum";
  readonly default: string | boolean | number | readonly string[];
  readonly repeatable?: boolean;
  readonly choices?: readonly string[];
  /** An action such as --help: not read from the environment. */
  readonly noEnv?: boolean;
}

/** The parsed flags, by name. */
export type FlagValues = Record<string, string | boolean | number | string[]>;

/** The error for a bad command line: the message names the flag and the value. */
export class FlagError extends Error {
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
      if (!/^-?\d+$/.test(raw)) throw bad("expected an integer");
      return Number(raw);
    }
    case "duration": {
      const ms = parseDuration(raw);
      if (ms === undefined) throw bad("expected a duration such as 10s, 1m or 500ms");
      return ms;
    }
    case "enum":
      if (!def.choices!.includes(raw)) throw bad(`expected one of ${def.choices!.join(", ")}`);
      return raw;
    default:
      return raw;
  }
}

/** The environment variable that sets a flag: `--web.listen-address` → `EXPORTER_WEB_LISTEN_ADDRESS`. */
export function envName(flag: string): string {
  return "EXPORTER_" + flag.toUpperCase().replace(/[.-]/g, "_");
}

/**
 * Parses `args` against `defs`: `--name=value`, `--name value`, `--flag`/`--no-flag`
 * for booleans, repeatable flags given several times. A flag not on the command line
 * is taken from its environment variable (see {@linkcode envName}), then its default.
 * Throws {@linkcode FlagError} naming the culprit for anything else.
 */
export function parseArgs(
  defs: readonly FlagDef[],
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): FlagValues {
  const byName = new Map(defs.map((d) => [d.name, d]));
  const values: FlagValues = {};
  const seen = new Set<string>();
  const set = (def: FlagDef, raw: string) => {
    const v = convert(def, raw);
    if (def.repeatable) {
      if (!seen.has(def.name)) values[def.name] = [];
      (values[def.name] as string[]).push(v as string);
    } else if (seen.has(def.name)) {
      throw new FlagError(`flag --${def.name} given more than once`);
    } else values[def.name] = v;
    seen.add(def.name);
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
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
  for (const def of defs) {
    if (seen.has(def.name)) continue;
    const fromEnv = def.noEnv ? undefined : env[envName(def.name)];
    if (fromEnv !== undefined && fromEnv !== "") {
      if (def.repeatable) {
        for (const part of fromEnv.split(",")) set(def, part.trim());
      } else set(def, fromEnv);
      continue;
    }
    values[def.name] = Array.isArray(def.default) ? [...def.default] : def.default as string | number | boolean;
  }
  return values;
}

/** The usage text: one line a flag with its help sentence, default and variable. */
export function usage(program: string, defs: readonly FlagDef[]): string {
  const lines = [`usage: ${program} [<flags>]`, "", "Flags:"];
  for (const d of defs) {
    const arg = d.kind === "bool" ? `--[no-]${d.name}` : `--${d.name}=${d.kind === "enum" ? d.choices!.join("|") : d.kind.toUpperCase()}`;
    const def = d.kind === "bool" ? "" : ` (default: ${formatDefault(d)})`;
    lines.push(`  ${arg}`, `      ${d.help}${def}${d.noEnv ? "" : ` [$${envName(d.name)}]`}`);
  }
  return lines.join("\n") + "\n";
}

/** A flag's default as shown in usage and the README. */
export function formatDefault(d: FlagDef): string {
  if (Array.isArray(d.default)) return d.default.join(", ");
  if (d.kind === "duration") return `${Number(d.default) / 1000}s`;
  if (d.default === "") return '""';
  return String(d.default);
}
