import { FlagError } from "./flags.ts";

/**
 * Splits a `--web.listen-address` value: `host:port`, `:port` or `[v6]:port`; an empty
 * host means every interface (0.0.0.0). Throws {@linkcode FlagError} naming the value
 * for anything else, so that a bad address is refused when the flags are parsed,
 * before anything listens.
 *
 * @example
 * ```ts
 * splitHostPort(":9100"); // { hostname: "0.0.0.0", port: 9100 }
 * ```
 */
export function splitHostPort(addr: string): { hostname: string; port: number } {
  const m = addr.match(/^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]]*)):(\d{1,5})$/);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new FlagError(
      `invalid value ${JSON.stringify(addr)} for flag --web.listen-address: want host:port, :port or [ipv6]:port`,
    );
  }
  const hostname = m[1] ?? (m[2] === "" ? "0.0.0.0" : m[2]);
  return { hostname, port };
}
