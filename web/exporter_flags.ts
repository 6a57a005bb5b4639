// The exporter's command line: the ecosystem's flag table (flagDefs and the
// --collector.<name> flags), and parseFlags, which parses it with web/flags.ts, runs
// an action flag (web/actions.ts) or turns the values into the settings the exporter
// serves with.
import { defaultCollectors, defaultRegistry } from "../prometheus/default_registry.ts";
import type { Registry } from "../prometheus/registry.ts";
import type { HandlerOpts } from "../promhttp/handler.ts";
import { selectableCollectors } from "../promhttp/collector_metrics.ts";
import { envName, FlagError, type FlagDef, type FlagValues, parseArgs, usage } from "./flags.ts";
import { type Level, type Logger, type LogFormat, newLogger } from "./log.ts";
import { adapter, type Adapter, type ConnectionLimits, defaultConnectionLimits } from "./adapter.ts";
import { runAction } from "./actions.ts";
import { splitHostPort } from "./address.ts";
import { program } from "./version.ts";

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
    name: "web.timeout",
    kind: "duration",
    default: 0,
    help: "Deadline for gathering one scrape, on top of Prometheus' own scrape timeout; 0 means none.",
  },
  { name: "web.write-timeout", kind: "duration", default: 30_000, help: "Time a client has to read a large scrape's body before it is cut off; 0 means no limit." },
  // Connection bounds (web/adapter.ts, ConnectionLimits: the defaults and why).
  {
    name: "web.read-header-timeout",
    kind: "duration",
    default: defaultConnectionLimits.readHeaderTimeoutMs,
    help: "Time a client has to send a request's headers before its connection is closed; 0 means no limit. Fixed at about 10s on Bun.",
  },
  {
    name: "web.idle-timeout",
    kind: "duration",
    default: defaultConnectionLimits.idleTimeoutMs,
    help: "Time a kept-alive connection may wait for its next request before it is closed; 0 means no limit. At most 255s on Bun.",
  },
  {
    name: "web.max-connections",
    kind: "int",
    default: defaultConnectionLimits.maxConnections,
    help: "Maximum number of open connections per listen address, at most the descriptor limit (ulimit -n) minus 64 where it can be read; beyond it an idle or slow connection is closed to make room, else the new one; 0 means only the descriptor bound. Not enforced on Bun.",
  },
  {
    name: "web.enable-openmetrics",
    kind: "bool",
    default: false,
    help: "Serve OpenMetrics when the scraper prefers it (renames counters without _total).",
  },
  {
    name: "web.disable-exporter-metrics",
    kind: "bool",
    default: false,
    help: "Exclude the exporter's own metrics (promhttp_*, process_*, nodejs_*, js_runtime_info).",
  },
  {
    name: "log.level",
    kind: "enum",
    choices: ["debug", "info", "warn", "error"],
    default: "info",
    help: "Only log messages with the given severity or above.",
  },
  { name: "log.format", kind: "enum", choices: ["logfmt", "json"], default: "logfmt", help: "Output format of log messages." },
  {
    name: "healthcheck",
    kind: "bool",
    default: false,
    help: "Ask the exporter on the first listen address whether it is healthy; exit 0 if so, 1 if not (for container HEALTHCHECKs).",
    noEnv: true,
  },
  {
    name: "web.config.file",
    kind: "string",
    default: "",
    help: "Path to a web configuration file in exporter-toolkit's format (TLS, basic auth, headers); empty means plain HTTP without authentication.",
  },
  {
    name: "web.health-without-auth",
    kind: "bool",
    default: true,
    help: "Serve /-/healthy and /-/ready without basic authentication when the web config sets users.",
  },
  {
    name: "web.config.check",
    kind: "string",
    default: "",
    help: "Check the web configuration file at this path for this runtime, print ok or the reason, and exit 0 or 1.",
    noEnv: true,
  },
  { name: "version", kind: "bool", default: false, help: "Show the version and exit.", noEnv: true },
  { name: "help", kind: "bool", default: false, help: "Show this help and exit.", noEnv: true },
];

/** Flags `--collector.<name>` for the collectors registered in `registry`, enabled by default. */
export function collectorFlagDefs(registry: Registry): FlagDef[] {
  return selectableCollectors(registry).map((name) => ({
    name: `collector.${name}`,
    kind: "bool",
    default: true,
    help: `Enable the ${name} collector.`,
  }));
}

/** The settings the exporter runs with. */
export interface Flags {
  readonly listenAddresses: string[];
  readonly telemetryPath: string;
  readonly handlerOpts: HandlerOpts;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly adapter: Adapter;
  /** --web.config.file: exporter-toolkit's web-config.yml; absent or empty for plain HTTP. */
  readonly webConfigFile?: string;
  /** --web.health-without-auth; true when absent. */
  readonly healthWithoutAuth?: boolean;
  /** --web.read-header-timeout, --web.idle-timeout, --web.write-timeout, --web.max-connections; the defaults when absent. */
  readonly connectionLimits?: ConnectionLimits;
  /** How often the web config is read again, in ms; 2 s when absent (tests set less). */
  readonly webConfigReloadMs?: number;
}

/** Options for {@linkcode parseFlags}. */
export interface ParseOptions {
  /** The command line; defaults to the process' arguments. */
  readonly args?: string[];
  /** The registry whose collectors get `--collector.<name>` flags; the default registry by default. */
  readonly registry?: Registry;
}

/**
 * Parses the command line and environment and applies the flags to the registry
 * (disabled collectors and exporter metrics are unregistered). Call it after
 * registering collectors, so that each gets its `--collector.<name>` flag.
 *
 * Prints the error and usage and exits 2 for a bad flag; exits with the action's code
 * for --help, --version, --web.config.check and --healthcheck (web/actions.ts).
 */
export async function parseFlags(opts: ParseOptions = {}): Promise<Flags> {
  const a = await adapter();
  const registry = opts.registry ?? defaultRegistry;
  const defs = [...flagDefs, ...collectorFlagDefs(registry)];
  const env: Record<string, string | undefined> = {};
  for (const d of defs) env[envName(d.name)] = a.getenv(envName(d.name));
  const args = opts.args ?? a.args();
  let v: FlagValues;
  try {
    v = parseArgs(defs, args, env);
    validate(v);
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    console.error(`${program.name}: error: ${e.message}\n\n${usage(program.name, defs)}`);
    return a.exit(2);
  }
  const code = await runAction(v, { defs, args, env, adapter: a });
  if (code !== undefined) return a.exit(code);

  for (const { name, collector } of registry.collectors()) {
    if (v[`collector.${name}`] === false) registry.unregister(collector);
  }
  const exporterMetrics = !v["web.disable-exporter-metrics"];
  if (!exporterMetrics && registry === defaultRegistry) for (const c of defaultCollectors) registry.unregister(c);

  const logger = newLogger(v["log.level"] as Level, v["log.format"] as LogFormat);
  return {
    listenAddresses: v["web.listen-address"] as string[],
    telemetryPath: v["web.telemetry-path"] as string,
    handlerOpts: {
      maxRequestsInFlight: v["web.max-requests"] as number,
      timeoutMs: v["web.timeout"] as number,
      writeTimeoutMs: v["web.write-timeout"] as number,
      enableOpenMetrics: v["web.enable-openmetrics"] as boolean,
      registry: exporterMetrics ? undefined : null,
      errorLog: (msg, fields) => logger.error(msg, fields),
    },
    logger,
    registry,
    adapter: a,
    webConfigFile: v["web.config.file"] as string,
    healthWithoutAuth: v["web.health-without-auth"] as boolean,
    connectionLimits: {
      readHeaderTimeoutMs: v["web.read-header-timeout"] as number,
      idleTimeoutMs: v["web.idle-timeout"] as number,
      writeTimeoutMs: v["web.write-timeout"] as number,
      maxConnections: v["web.max-connections"] as number,
    },
  };
}

function validate(v: FlagValues): void {
  const path = v["web.telemetry-path"] as string;
  if (!path.startsWith("/")) {
    throw new FlagError(`invalid value ${JSON.stringify(path)} for flag --web.telemetry-path: must start with /`);
  }
  if ((v["web.max-requests"] as number) < 0) {
    throw new FlagError(`invalid value ${v["web.max-requests"]} for flag --web.max-requests: must not be negative`);
  }
  if ((v["web.max-connections"] as number) < 0) {
    throw new FlagError(`invalid value ${v["web.max-connections"]} for flag --web.max-connections: must not be negative`);
  }
  for (const addr of v["web.listen-address"] as string[]) splitHostPort(addr);
}
