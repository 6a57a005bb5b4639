import { FlagError } from "./flags.ts";

/**
 * Splits a `--web.listen-address` value: `host:port`, `:port` or `[v6]:port`. An empty
 * host, as in Go's `:8080`, means every address, IPv4 and IPv6 (see
 * {@linkcode listenHostnames}). Throws {@linkcode FlagError} naming the value for
 * anything else, so that a bad address is refused when the flags are parsed, before
 * anything listens.
 *
 * @example
 * ```ts
 * splitHostPort(":9100"); // { hostname: "", port: 9100 }
 * splitHostPort("[::1]:9100"); // { hostname: "::1", port: 9100 }
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
  return { hostname: m[1] ?? m[2], port };
}

/**
 * `host:port`, with an IPv6 host in brackets as Go's `net.JoinHostPort` writes it:
 * `[::1]:9100`, `[::]:8080`, `127.0.0.1:9100`.
 */
export function joinHostPort(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/**
 * The hostnames to try, in order, for a host from {@linkcode splitHostPort}. An empty
 * host is Go's "every address": `::`, which Bun, Deno and Node all bind dual-stack
 * (IPv6 and IPv4-mapped, on Linux' default `net.ipv6.bindv6only=0`), and `0.0.0.0` for
 * a machine without IPv6, where binding `::` fails.
 */
export function listenHostnames(hostname: string): string[] {
  return hostname === "" ? ["::", "0.0.0.0"] : [hostname];
}
