import { splitHostPort } from "./address.ts";
import { defaultEnvPrefix, envName, type FlagDef, type FlagValues, parseArgs } from "./flags.ts";
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
export async function healthcheck(
  addr: string,
  webConfigFile = "",
  programName: string = program.name,
): Promise<number> {
  const { hostname, port } = splitHostPort(addr);
  // An empty host listens on every address, IPv4 among them.
  const host = hostname === "" || hostname === "0.0.0.0" ? "127.0.0.1" : hostname === "::" ? "::1" : hostname;
  try {
    let tls = false;
    if (webConfigFile) {
      const { parseWebConfig } = await import("./webconfig.ts");
      const { readFile } = await import("node:fs/promises");
      tls = (await parseWebConfig(await readFile(webConfigFile, "utf8"), webConfigFile)).tls !== undefined;
    }
    const status = await get(tls, host, port);
    if (status === 200) return 0;
    console.error(`${programName}: healthcheck failed: /-/healthy answered ${status}`);
  } catch (e) {
    console.error(`${programName}: healthcheck failed: ${e instanceof Error ? e.message : e}`);
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

/** The two flags that say where `--healthcheck` asks and whether over TLS. */
const targetFlags = ["web.listen-address", "web.config.file"] as const;

/**
 * Where `--healthcheck` asks: `own` (the values parsed from this process' command line
 * and environment) when either target flag was given there, else the running
 * exporter's. Docker runs a HEALTHCHECK with the container's environment but without
 * the entrypoint's arguments, so `/exporter --web.listen-address=:9100` would be
 * checked on the default :8080. When PID 1 runs the same executable as this process
 * (same device and inode of /proc/<pid>/exe) and the same program before the flags,
 * its /proc cmdline and environ are parsed with `defs` and the two target flags taken
 * from them. Anything that fails (no /proc, no permission, Deno without read access,
 * flags PID 1's version does not know) leaves `own`: the check then asks the default
 * address, as it did before.
 *
 * `ownArgs` are the flags `own` was parsed from; `processArgs` this process' own (the
 * adapter's `args()`, the same unless the program passed others): what precedes them in
 * /proc/self/cmdline (`bun main.ts`, `deno run … main.ts`, or a compiled binary's
 * name) must precede PID 1's flags too, the program name itself aside. A relative
 * --web.config.file is read from this process' working directory, which for
 * `docker exec` and a HEALTHCHECK is the image's WORKDIR, as for PID 1. `envPrefix` is
 * the identity's prefix of the variables.
 */
export async function healthcheckTarget(
  defs: readonly FlagDef[],
  own: FlagValues,
  ownArgs: readonly string[],
  ownEnv: Record<string, string | undefined>,
  processArgs: readonly string[] = ownArgs,
  envPrefix: string = defaultEnvPrefix,
): Promise<FlagValues> {
  const named = (a: string) => targetFlags.some((f) => a === `--${f}` || a.startsWith(`--${f}=`));
  // parseArgs ignores an empty variable, so an empty one is not "given" either.
  const fromEnv = (f: string) => (ownEnv[envName(f, envPrefix)] ?? "") !== "";
  if (ownArgs.some(named) || targetFlags.some(fromEnv)) return own;
  try {
    const { stat, text } = await procReader();
    const [self, init] = await Promise.all([stat("/proc/self/exe"), stat("/proc/1/exe")]);
    if (self.dev !== init.dev || self.ino !== init.ino) return own;
    const [selfArgv, initArgv, environ] = await Promise.all(
      ["/proc/self/cmdline", "/proc/1/cmdline", "/proc/1/environ"].map(async (p) => nulSeparated(await text(p))),
    );
    const lead = selfArgv.length - processArgs.length;
    if (lead < 1 || initArgv.length < lead) return own;
    for (let i = 1; i < lead; i++) if (initArgv[i] !== selfArgv[i]) return own;
    const env: Record<string, string | undefined> = {};
    for (const e of environ) {
      const eq = e.indexOf("=");
      if (eq > 0) env[e.slice(0, eq)] = e.slice(eq + 1);
    }
    const theirs = parseArgs(defs, initArgv.slice(lead), env, envPrefix);
    const target = { ...own };
    for (const f of targetFlags) target[f] = theirs[f];
    return target;
  } catch {
    return own;
  }
}

/** How healthcheckTarget stats and reads /proc: the device and inode of a path, a file's text. */
interface ProcReader {
  stat(path: string): Promise<{ dev: number; ino: number }>;
  text(path: string): Promise<string>;
}

type BunFiles = { file(path: string): { stat(): Promise<{ dev: number; ino: number }>; text(): Promise<string> } };

/**
 * Bun's own files on Bun, node:fs/promises elsewhere, loaded only on this path. A
 * compiled Bun binary compiles node:fs/promises from its source when this first imports
 * it; Bun.file needs no module. A `--healthcheck` without a target flag, as Docker runs
 * it every interval: 11.2 -> 10.5 ms from spawn to exit, 10.5 -> 9.7 ms of CPU, peak
 * RSS 37.7 -> 36.2 MB (medians of 60 interleaved starts of fresh copies, shared machine).
 */
async function procReader(): Promise<ProcReader> {
  const bun = (globalThis as { Bun?: BunFiles }).Bun;
  if (bun) return { stat: (p) => bun.file(p).stat(), text: (p) => bun.file(p).text() };
  const { readFile, stat } = await import("node:fs/promises");
  return { stat, text: (p) => readFile(p, "utf8") };
}

/** The entries of a /proc cmdline or environ file: NUL-terminated strings, which may be empty. */
function nulSeparated(text: string): string[] {
  const parts = text.split("\0");
  if (parts.at(-1) === "") parts.pop();
  return parts;
}
