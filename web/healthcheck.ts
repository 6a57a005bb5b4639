import { splitHostPort } from "./address.ts";
import { program } from "./version.ts";

/**
 * GETs /-/healthy on `addr` (an unspecified host means this machine) and returns the
 * exit code for `--healthcheck`: 0 when it answers 200, 1 otherwise. Distroless
 * images have no shell or curl, so the binary checks itself.
 *
 * With a `webConfigFile` that enables TLS it asks over HTTPS without verifying the
 * certificate: it checks that this process answers on its own address and sends no
 * credentials. It cannot pass a client-certificate requirement.
 */
export async function healthcheck(addr: string, webConfigFile = ""): Promise<number> {
  const { hostname, port } = splitHostPort(addr);
  const host = hostname === "0.0.0.0" ? "127.0.0.1" : hostname === "::" ? "::1" : hostname;
  try {
    let tls = false;
    if (webConfigFile) {
      const { parseWebConfig } = await import("./webconfig.ts");
      const { readFile } = await import("node:fs/promises");
      tls = (await parseWebConfig(await readFile(webConfigFile, "utf8"), webConfigFile)).tls !== undefined;
    }
    const status = await get(tls, host, port);
    if (status === 200) return 0;
    console.error(`${program.name}: healthcheck failed: /-/healthy answered ${status}`);
  } catch (e) {
    console.error(`${program.name}: healthcheck failed: ${e instanceof Error ? e.message : e}`);
  }
  return 1;
}

async function get(tls: boolean, host: string, port: number): Promise<number> {
  // Plain HTTP goes through the runtime's own fetch: loading node:http costs a compiled
  // Bun binary ~25 ms of start-up, and Docker runs this every interval. node:https
  // stays for TLS, as it alone skips certificate checks alike on Bun and Deno.
  if (!tls) {
    const res = await fetch(`http://${host.includes(":") ? `[${host}]` : host}:${port}/-/healthy`, {
      signal: AbortSignal.timeout(5000),
    });
    await res.body?.cancel();
    return res.status;
  }
  const { request } = await import("node:https");
  return new Promise((resolve, reject) => {
    const req = request(
      { host, port, path: "/-/healthy", method: "GET", rejectUnauthorized: false, timeout: 5000, agent: false },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("timeout", () => req.destroy(new Error("no answer within 5 s")));
    req.on("error", reject);
    req.end();
  });
}
