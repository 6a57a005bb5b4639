/**
 * The server around the metrics handler, as exporter-toolkit: standard flags,
 * structured logs, one adapter per runtime, graceful shutdown.
 *
 * @example
 * ```ts
 * const flags = await parseFlags();
 * mustRegister(newFooCollector());
 * await listenAndServe(flags, handler(flags.handlerOpts));
 * ```
 * @module
 */
import type { HandlerOpts } from "../promhttp/handler.ts";
import { envName, FlagError, type FlagDef, parseArgs, usage } from "./flags.ts";
import { type Level, type Logger, type LogFormat, newLogger } from "./log.ts";
import { adapter, type Adapter, type Listener } from "./server.ts";

export { type FlagDef, FlagError, parseArgs, usage } from "./flags.ts";
export { type Logger, newLogger } from "./log.ts";

/** The program's name and version, shown by --version and in logs. */
export const program = { name: "exporter", version: "0.1.0" };

/** The standard flags, with the Prometheus ecosystem's names. */
export const flagDefs: readonly FlagDef[] = [
  {
    name: "web.listen-address",
    kind: "string",
    repeatable: true,
    default: [":8080"],
    help: "Address on which to expose metrics and the web interface; repeat to listen on several.",
  },
  { name: "web.telemetry-path", kind: "string", default: "/metrics", help: "Path under which to expose metrics." },
  {
    name: "web.max-requests",
    kind: "int",
    default: 40,
    help: "Maximum number of parallel scrape requests; 0 means no limit.",
  },
  {
    name: "web.enable-openmetrics",
    kind: "bool",
    default: false,
    help: "Serve OpenMetrics when the scraper prefers it (renames counters without _total).",
  },
  { name: "log.level", kind: "enum", choices: ["debug", "info", "warn", "error"], default: "info", help: "Only log messages with the given severity or above." },
  { name: "log.format", kind: "enum", choices: ["logfmt", "json"], default: "logfmt", help: "Output format of log messages." },
  {
    name: "healthcheck",
    kind: "bool",
    default: false,
    help: "Ask the exporter on the first listen address whether it is healthy; exit 0 if so, 1 if not (for container HEALTHCHECKs).",
  },
  { name: "version", kind: "bool", default: false, help: "Show the version and exit." },
  { name: "help", kind: "bool", default: false, help: "Show this help and exit." },
];

/** The settings the exporter runs with. */
export interface Flags {
  readonly listenAddresses: string[];
  readonly telemetryPath: string;
  readonly handlerOpts: HandlerOpts;
  readonly logger: Logger;
  readonly adapter: Adapter;
}

/**
 * Parses the command line and environment. Prints usage or the version and exits 0
 * for --help and --version; prints the error and usage and exits 2 for a bad flag.
 */
export async function parseFlags(args?: string[]): Promise<Flags> {
  const a = await adapter();
  const env: Record<string, string | undefined> = {};
  for (const d of flagDefs) env[envName(d.name)] = a.getenv(envName(d.name));
  let v;
  try {
    v = parseArgs(flagDefs, args ?? a.args(), env);
    const path = v["web.telemetry-path"] as string;
    if (!path.startsWith("/")) throw new FlagError(`invalid value ${JSON.stringify(path)} for flag --web.telemetry-path: must start with /`);
    if ((v["web.max-requests"] as number) < 0) throw new FlagError(`invalid value ${v["web.max-requests"]} for flag --web.max-requests: must not be negative`);
    for (const addr of v["web.listen-address"] as string[]) splitHostPort(addr);
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    console.error(`${program.name}: error: ${e.message}\n\n${usage(program.name, flagDefs)}`);
    return a.exit(2);
  }
  if (v.help) {
    console.log(usage(program.name, flagDefs));
    return a.exit(0);
  }
  if (v.version) {
    console.log(`${program.name} ${program.version}`);
    return a.exit(0);
  }
  if (v.healthcheck) return a.exit(await healthcheck((v["web.listen-address"] as string[])[0]));
  const logger = newLogger(v["log.level"] as Level, v["log.format"] as LogFormat);
  return {
    listenAddresses: v["web.listen-address"] as string[],
    telemetryPath: v["web.telemetry-path"] as string,
    handlerOpts: {
      maxRequestsInFlight: v["web.max-requests"] as number,
      enableOpenMetrics: v["web.enable-openmetrics"] as boolean,
      errorLog: (msg, fields) => logger.error(msg, fields),
    },
    logger,
    adapter: a,
  };
}

/** Splits `host:port`, `:port` or `[v6]:port`; an empty host means every interface. */
export function splitHostPort(addr: string): { hostname: string; port: number } {
  const m = addr.match(/^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]]*)):(\d{1,5})$/);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new FlagError(`invalid value ${JSON.stringify(addr)} for flag --web.listen-address: want host:port, :port or [ipv6]:port`);
  }
  const hostname = m[1] ?? (m[2] === "" ? "0.0.0.0" : m[2]);
  return { hostname, port };
}

/** A running exporter: its listeners, and a way to stop it as SIGTERM does. */
export interface Running {
  readonly listeners: Listener[];
  shutdown(): Promise<void>;
}

/**
 * Serves `metricsHandler` on the telemetry path of every listen address; other paths
 * get 404. On SIGTERM or SIGINT it stops accepting, lets in-flight scrapes finish
 * (for at most 10 s) and exits 0.
 */
export async function listenAndServe(
  flags: Flags,
  metricsHandler: (req: Request) => Promise<Response>,
): Promise<Running> {
  const { logger } = flags;
  let ready = false;
  const route = (req: Request): Promise<Response> | Response => {
    const path = new URL(req.url).pathname;
    if (path === flags.telemetryPath) return metricsHandler(req);
    // Health endpoints answer without running collectors.
    if (path === "/-/healthy") return plain(200, "Healthy.\n");
    if (path === "/-/ready") return ready ? plain(200, "Ready.\n") : plain(503, "Not ready.\n");
    return plain(404, "404 page not found\n");
  };
  const listeners: Listener[] = [];
  for (const addr of flags.listenAddresses) {
    const { hostname, port } = splitHostPort(addr);
    try {
      listeners.push(
        await flags.adapter.listen({
          hostname,
          port,
          handler: route,
          onError: (e) => logger.error("error serving request", { err: e }),
        }),
      );
    } catch (e) {
      logger.error("error listening", { address: addr, err: e });
      return flags.adapter.exit(1);
    }
    logger.info("Listening on", { address: `${hostname}:${listeners.at(-1)!.port}`, path: flags.telemetryPath });
  }
  ready = true;
  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    stopping ??= (async () => {
      const bound = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 10_000).unref?.());
      const r = await Promise.race([Promise.all(listeners.map((l) => l.stop())), bound]);
      if (r === "timeout") logger.warn("in-flight requests did not finish within 10s");
    })();
  flags.adapter.onShutdownSignal(async (sig) => {
    logger.info("Shutting down", { signal: sig });
    await shutdown();
    flags.adapter.exit(0);
  });
  return { listeners, shutdown };
}

function plain(status: number, body: string): Response {
  return new Response(body, { status, headers: { "Content-Type": "text/plain; charset=utf-8" } });
}

/** GETs /-/healthy on `addr` (an empty host means this machine); 0 when it answers 200. */
async function healthcheck(addr: string): Promise<number> {
  const { hostname, port } = splitHostPort(addr);
  const host = hostname === "0.0.0.0" ? "127.0.0.1" : hostname === "::" ? "[::1]" : hostname.includes(":") ? `[${hostname}]` : hostname;
  try {
    const res = await fetch(`http://${host}:${port}/-/healthy`, { signal: AbortSignal.timeout(5000) });
    await res.body?.cancel();
    return res.status === 200 ? 0 : 1;
  } catch (e) {
    console.error(`${program.name}: healthcheck failed: ${e instanceof Error ? e.message : e}`);
    return 1;
  }
}
