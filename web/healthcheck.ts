import { splitHostPort } from "./config.ts";
import { program } from "./version.ts";

/**
 * GETs /-/healthy on `addr` (an unspecified host means this machine) and returns the
 * exit code for `--healthcheck`: 0 when it answers 200, 1 otherwise. Distroless
 * images have no shell or curl, so the binary checks itself.
 */
export async function healthcheck(addr: string): Promise<number> {
  const { hostname, port } = splitHostPort(addr);
  const host = hostname === "0.0.0.0" ? "127.0.0.1" : hostname === "::" ? "[::1]" : hostname.includes(":") ? `[${hostname}]` : hostname;
  try {
    const res = await fetch(`http://${host}:${port}/-/healthy`, { signal: AbortSignal.timeout(5000) });
    await res.body?.cancel();
    if (res.status === 200) return 0;
    console.error(`${program.name}: healthcheck failed: /-/healthy answered ${res.status}`);
  } catch (e) {
    console.error(`${program.name}: healthcheck failed: ${e instanceof Error ? e.message : e}`);
  }
  return 1;
}
