// The walker behind web/webconfig.ts: a YAML document read against a typed
// declaration, one entry per key (its kind, its default, its check), as
// exporter-toolkit reads into typed structs. Every refusal names the key's path and
// line through `At.fail`, so the messages are the same whatever the key.
import { resolve } from "node:path";
import { parseDuration } from "./flags.ts";

/** Where a value sits in the file: the keys (and list indexes) from the top. */
export type Path = readonly string[];

/** A position in the file being read: its path, and how to refuse what is there. */
export interface At {
  readonly path: Path;
  /** The folder relative paths are taken from: the file's own. */
  readonly dir: string;
  /** Throws {@linkcode WebConfigError} naming the file, this key and its line. */
  fail(why: string): never;
  at(key: string): At;
}

/**
 * How one kind of YAML value is read. `read` gets a value that is present and not
 * null, and returns it typed, or undefined to mean "unset" (the entry's default
 * applies), or refuses it with `at.fail`. A kind with `whenAbsent` is read from that
 * value when the key is absent or null (a section left out is an empty section).
 */
export interface Kind<T> {
  read(v: unknown, at: At): T | undefined;
  readonly whenAbsent?: unknown;
}

/**
 * One key of a mapping, as a field of exporter-toolkit's typed structs: its kind, the
 * value when it is absent or null, and a check of a value the kind accepted.
 */
export interface Entry<T> {
  readonly kind: Kind<T>;
  readonly default?: T;
  readonly check?: (v: T, at: At) => void;
}

/** A mapping's keys, in the order they are read and listed in "allowed here". */
// deno-lint-ignore no-explicit-any
export type Schema = Record<string, Entry<any>>;

/** What a schema reads to: each key's value, undefined only where there is no default. */
export type Values<S extends Schema> = {
  [K in keyof S]: S[K] extends Entry<infer T> ? (S[K] extends { readonly default: T } ? T : T | undefined) : never;
};

/** An entry of a schema; with a default its value is never undefined. */
export function key<T>(
  kind: Kind<T>,
  opts: { readonly default: T; readonly check?: (v: T, at: At) => void },
): Entry<T> & { readonly default: T };
export function key<T>(kind: Kind<T>, opts?: { readonly check?: (v: T, at: At) => void }): Entry<T>;
export function key<T>(
  kind: Kind<T>,
  opts: { readonly default?: T; readonly check?: (v: T, at: At) => void } = {},
): Entry<T> {
  return { kind, ...opts };
}

/** A YAML string (a number or boolean in its place is refused, not converted). */
export const string: Kind<string> = {
  read: (v, at) => typeof v === "string" ? v : at.fail(`want a string, got ${describe(v)}`),
};

/** A string where "" means unset, as for client_auth_type. */
export const optionalString: Kind<string> = { read: (v, at) => v === "" ? undefined : string.read(v, at) };

/** true or false. */
export const boolean: Kind<boolean> = {
  read: (v, at) => typeof v === "boolean" ? v : at.fail(`want true or false, got ${describe(v)}`),
};

/** A list of strings; a wrong element is refused at its index. */
export const strings: Kind<readonly string[]> = {
  read(v, at) {
    if (!Array.isArray(v)) return at.fail(`want a list of strings, got ${describe(v)}`);
    return v.map((x, i) => string.read(x, at.at(String(i)))!);
  },
};

/** An integer ≥ 0. */
export const wholeNumber: Kind<number> = {
  read: (v, at) =>
    typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : at.fail(`want a whole number ≥ 0, got ${describe(v)}`),
};

/** A Go duration string (`1s`, `500ms`, `1m30s`), read as milliseconds. */
export const duration: Kind<number> = {
  read(v, at) {
    const s = string.read(v, at)!;
    return parseDuration(s) ?? at.fail(`invalid duration ${JSON.stringify(s)}; want e.g. 1s or 500ms`);
  },
};

/** A file path, taken from the config file's folder when relative. */
export const path: Kind<string> = {
  read(v, at) {
    const p = string.read(v, at)!;
    return p === "" ? at.fail("empty path") : resolve(at.dir, p);
  },
};

/** A value that must be one of `names`. */
export function oneOf(names: readonly string[]): (v: string, at: At) => void {
  return (v, at) => {
    if (!names.includes(v)) at.fail(`unknown value ${JSON.stringify(v)}; want one of ${names.join(", ")}`);
  };
}

/** Each element of a list checked by `check`, at its index. */
export function each(check: (v: string, at: At) => void): (v: readonly string[], at: At) => void {
  return (v, at) => v.forEach((x, i) => check(x, at.at(String(i))));
}

function mapping(v: unknown, at: At): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return at.fail(`want a mapping, got ${describe(v)}`);
  return v as Record<string, unknown>;
}

/**
 * A mapping with the keys of `schema` and no others, read in the schema's order, then
 * turned into its value by `build` (which also checks what involves several keys; it
 * sees the mapping as written too, for which keys were given at all).
 */
export function struct<S extends Schema, T>(
  schema: S,
  build: (v: Values<S>, at: At, written: Record<string, unknown>) => T,
): Kind<T> {
  const allowed = Object.keys(schema);
  return {
    whenAbsent: {},
    read(v, at) {
      const m = mapping(v, at);
      for (const k of Object.keys(m)) {
        if (!allowed.includes(k)) at.at(k).fail(`unknown key; allowed here: ${allowed.join(", ")}`);
      }
      const values: Record<string, unknown> = {};
      for (const [k, e] of Object.entries(schema)) values[k] = readEntry(e, m[k], at.at(k));
      return build(values as Values<S>, at, m);
    },
  };
}

/** A mapping with keys of the user's choosing, each value read by `entry`; null refused with `ifNull`. */
export function dictionary<T>(entry: Entry<T>, ifNull: string): Kind<ReadonlyMap<string, T>> {
  return {
    whenAbsent: {},
    read(v, at) {
      const out = new Map<string, T>();
      for (const [k, x] of Object.entries(mapping(v, at))) {
        const here = at.at(k);
        const value = readEntry(entry, x, here);
        out.set(k, value ?? here.fail(ifNull));
      }
      return out;
    },
  };
}

function readEntry<T>(e: Entry<T>, raw: unknown, at: At): T | undefined {
  const absent = raw === null || raw === undefined;
  if (absent && e.kind.whenAbsent === undefined) return e.default;
  const v = e.kind.read(absent ? e.kind.whenAbsent : raw, at);
  if (v === undefined) return e.default;
  e.check?.(v, at);
  return v;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}
