// Metric and label names beyond the legacy grammar, as prometheus/common's model
// (metric.go: EscapingScheme, EscapeName, IsValidLegacyMetricName): a scraper that
// allows UTF-8 gets them quoted; any other gets them escaped with the scheme it asked
// for, `underscores` by default.
import { GatherError, type MetricFamily } from "./_family.ts";

/**
 * How names that are not legacy names are written, as the `escaping=` parameter of
 * `Accept` and `Content-Type` says, and as Go's `model.EscapingScheme`:
 * - `allow-utf-8`: as they are, quoted where the legacy grammar does not allow them
 *   (`{"http.server.duration",le="0.1"} 3`);
 * - `underscores`: every character the legacy grammar refuses becomes `_`;
 * - `dots`: `.` becomes `_dot_`, `_` becomes `__`, anything else refused `__`;
 * - `values`: `U__` then each refused character as `_<hex code point>_`, `_` as `__`.
 */
export type EscapingScheme = "allow-utf-8" | "underscores" | "dots" | "values";

/** The scheme used when the scraper names none, as prometheus/common's `NameEscapingScheme`. */
export const defaultEscaping: EscapingScheme = "underscores";

/** The schemes an `escaping=` parameter may name; anything else is ignored, as in Go. */
export const escapingSchemes: readonly EscapingScheme[] = ["allow-utf-8", "underscores", "dots", "values"];

const legacyNameRe = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * Reports whether `name` is a legacy metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`), which
 * every format writes bare. prometheus/common applies this same test to label names
 * when it decides whether to quote or escape them.
 */
export function isLegacyName(name: string): boolean {
  return legacyNameRe.test(name);
}

/** Go's isValidLegacyRune: a letter, `_`, `:`, or a digit anywhere but first. */
function legacyRune(c: number, first: boolean): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a ||
    (!first && c >= 0x30 && c <= 0x39);
}

/**
 * Escapes a name with `scheme`, as Go's `model.EscapeName` does; `allow-utf-8`
 * returns it as it is. prometheus/common escapes only names that are not legacy
 * names (`EscapeMetricFamily`), which {@linkcode escapeNameIfNeeded} does.
 *
 * @example
 * ```ts
 * escapeName("http.server.duration", "underscores"); // "http_server_duration"
 * escapeName("http.server_duration", "dots");        // "http_dot_server__duration"
 * escapeName("données", "values");                   // "U__donn_e9_es"
 * ```
 */
export function escapeName(name: string, scheme: EscapingScheme): string {
  if (name === "" || scheme === "allow-utf-8") return name;
  let out = "";
  let first = true;
  switch (scheme) {
    case "underscores":
      if (isLegacyName(name)) return name;
      for (const ch of name) {
        out += legacyRune(ch.codePointAt(0)!, first) ? ch : "_";
        first = false;
      }
      return out;
    case "dots":
      for (const ch of name) {
        const c = ch.codePointAt(0)!;
        out += c === 0x5f ? "__" : c === 0x2e ? "_dot_" : legacyRune(c, first) ? ch : "__";
        first = false;
      }
      return out;
    case "values":
      if (isLegacyName(name)) return name;
      out = "U__";
      for (const ch of name) {
        const c = ch.codePointAt(0)!;
        // A lone surrogate is Go's invalid rune; the model refuses such names before here.
        out += c === 0x5f
          ? "__"
          : legacyRune(c, first)
          ? ch
          : c >= 0xd800 && c <= 0xdfff
          ? "_FFFD_"
          : `_${c.toString(16)}_`;
        first = false;
      }
      return out;
  }
}

/** The name as `scheme` writes it: legacy names and `allow-utf-8` unchanged, as `EscapeMetricFamily`. */
export function escapeNameIfNeeded(name: string, scheme: EscapingScheme): string {
  return scheme === "allow-utf-8" || isLegacyName(name) ? name : escapeName(name, scheme);
}

/**
 * Leaves out of `families` each family whose name, once escaped with `scheme`, is
 * the escaped name of a family before it, or whose label names collide once
 * escaped, and returns an error naming both for each: in one scrape, `a.b` and `a_b`
 * would both be written `a_b` under `underscores`, and a parser would take them for
 * one family. Nothing collides under `allow-utf-8`. The registry has already
 * checked everything else; this check depends on what the scraper asked for, so the
 * handler runs it per scrape.
 */
export function dropEscapingCollisions(
  families: readonly MetricFamily[],
  scheme: EscapingScheme,
): { families: readonly MetricFamily[]; errors: GatherError[] } {
  if (scheme === "allow-utf-8" || allLegacy(families)) return { families, errors: [] };
  let kept: MetricFamily[] | undefined;
  const errors: GatherError[] = [];
  const byEscaped = new Map<string, string>();
  families.forEach((f, i) => {
    const escaped = escapeNameIfNeeded(f.name, scheme);
    const other = byEscaped.get(escaped);
    let problem: string | undefined;
    if (other !== undefined) {
      problem = `collected metric names ${JSON.stringify(other)} and ${JSON.stringify(f.name)} both escape to ${
        JSON.stringify(escaped)
      } (escaping=${scheme}); ${JSON.stringify(f.name)} is left out`;
    } else {
      problem = labelCollision(f, scheme);
    }
    if (problem === undefined) {
      byEscaped.set(escaped, f.name);
      kept?.push(f);
      return;
    }
    kept ??= families.slice(0, i);
    errors.push(new GatherError("registry", problem, f.name));
  });
  return { families: kept ?? families, errors };
}

/**
 * Whether every family has a legacy name and legacy label names: no scheme changes
 * those, and the registry has made the names distinct, so nothing can collide. The
 * usual case, checked per scrape at the cost of one test per family.
 */
function allLegacy(families: readonly MetricFamily[]): boolean {
  for (let i = 0; i < families.length; i++) {
    const f = families[i];
    if (!f.desc._legacyLabels || !isLegacyName(f.name)) return false;
  }
  return true;
}

/** Two label names of a family's Desc that escape to one, described; undefined when none do. */
function labelCollision(f: MetricFamily, scheme: EscapingScheme): string | undefined {
  const d = f.desc;
  if (d._legacyLabels) return undefined;
  const seen = new Map<string, string>();
  for (const n of [...Object.keys(d.constLabels), ...d.variableLabels]) {
    const e = escapeNameIfNeeded(n, scheme);
    const other = seen.get(e);
    if (other !== undefined) {
      return `metric ${JSON.stringify(f.name)}: label names ${JSON.stringify(other)} and ${
        JSON.stringify(n)
      } both escape to ${JSON.stringify(e)} (escaping=${scheme}); the family is left out`;
    }
    seen.set(e, n);
  }
  return undefined;
}
