// The exporter's command line: the ecosystem's flag table (flagDefs and the
// --collector.<name> flags), the exporter's own flags (a FlagSet), collectors made
// once the flags are parsed (registerCollector), and parseFlags, which parses it all
// with web/flags.ts, runs an action flag (web/actions.ts) or turns the values into the
// settings the exporter serves with.
import type { Collector } from "../prometheus/collector.ts";
import { defaultCollectors, defaultRegistry } from "../prometheus/default_registry.ts";
import type { Registry } from "../prometheus/registry.ts";
import type { HandlerOpts } from "../promhttp/handler.ts";
import { selectableCollectors } from "../promhttp/collector_metrics.ts";
import {
  flag,
  type FlagDef,
  flagEnv,
  FlagError,
  type FlagSet,
  type FlagValues,
  parseArgs,
  setParsedValues,
  usage,
} from "./flags.ts";
import { type Level, type LogFormat, type Logger, newLogger } from "./log.ts";
import { type Adapter, adapter, type ConnectionLimits, defaultConnectionLimits } from "./adapter.ts";
import { runAction } from "./actions.ts";
import { commandLine } from "./_command_line.ts";
import { splitHostPort } from "./address.ts";
import { currentRuntime, type Runtime } from "./capabilities.ts";
import { type Identity, newIdentity } from "./version.ts";

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
  {
    name: "web.write-timeout",
    kind: "duration",
    default: 30_000,
    help: "Time a client has to read a large scrape's body before it is cut off; 0 means no limit.",
  },
  // Connection bounds (web/adapter.ts, ConnectionLimits: the defaults and why).
  {
    name: "web.read-header-timeout",
    kind: "duration",
    default: defaultConnectionLimits.readHeaderTimeoutMs,
    help:
      "Time a client has to send a request's headers before its connection is closed; 0 means no limit. On Bun with --web.server=runtime, Bun.serve's own ~10s instead: another value is refused there.",
  },
  {
    name: "web.idle-timeout",
    kind: "duration",
    default: defaultConnectionLimits.idleTimeoutMs,
    help:
      "Time a kept-alive connection may wait for its next request before it is closed; 0 means no limit. At most 255s on Bun with --web.server=runtime.",
  },
  {
    name: "web.max-connections",
    kind: "int",
    default: defaultConnectionLimits.maxConnections,
    help:
      "Maximum number of open connections per listen address, at most the descriptor limit (ulimit -n) minus 64 where it can be read; beyond it an idle or slow connection is closed to make room, else the new one; 0 means only the descriptor bound. Not enforced on Bun with --web.server=runtime: another value than the default is refused there.",
  },
  {
    name: "web.server",
    kind: "enum",
    choices: ["runtime", "kit"],
    default: "runtime",
    help:
      "HTTP server to serve on. runtime: Bun.serve on Bun (native, the least CPU a scrape), which cannot limit connections, " +
      "closes slow headers after its own ~10s and closes a non-reading client's connection 4-8s after --web.write-timeout; " +
      "kit: the kit's HTTP/1.1 server, which enforces every connection flag above, for 25-70% more CPU a scrape on Bun (measured) " +
      "and HTTP/1.1 only. Deno always serves on the kit's, Node on node:http (which enforces them itself).",
  },
  {
    name: "web.enable-openmetrics",
    kind: "bool",
    default: false,
    help: "Serve OpenMetrics when the scraper prefers it (counters without _total become unknown).",
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
  {
    name: "log.format",
    kind: "enum",
    choices: ["logfmt", "json"],
    default: "logfmt",
    help: "Output format of log messages.",
  },
  {
    name: "healthcheck",
    kind: "bool",
    default: false,
    help:
      "Ask the exporter on the first listen address whether it is healthy; exit 0 if so, 1 if not (for container HEALTHCHECKs).",
    noEnv: true,
  },
  {
    name: "web.config.file",
    kind: "string",
    default: "",
    help:
      "Path to a web configuration file in exporter-toolkit's format (TLS, basic auth, headers); empty means plain HTTP without authentication.",
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
  { name: "help", kind: "bool", default: false, help: "Show this help and exit.", noEnv: true, short: "h" },
];

/** Flags `--collector.<name>` for the collectors registered in `registry`, enabled by default. */
export function collectorFlagDefs(registry: Registry): FlagDef[] {
  return selectableCollectors(registry).map((name) => collectorFlag(name, true));
}

function collectorFlag(name: string, enabled: boolean): FlagDef {
  return { name: `collector.${name}`, kind: "bool", default: enabled, help: `Enable the ${name} collector.` };
}

/** What a collector made by {@linkcode registerCollector}'s factory is given. */
export interface CollectorContext {
  /**
   * The exporter's logger (`--log.level`, `--log.format`) with `collector=<name>` on
   * every line, as node_exporter hands each collector `logger.With("collector", name)`.
   */
  readonly logger: Logger;
}

/** A collector made once the flags are parsed; see {@linkcode registerCollector}. */
export interface CollectorFactory {
  /** The collector's name: its `--[no-]collector.<name>` flag; the collector made must have it. */
  readonly name: string;
  /** Whether it runs without `--collector.<name>` (node_exporter's `isDefaultEnabled`). */
  readonly defaultEnabled: boolean;
  /** Makes the collector once the flags are parsed, if it is enabled. */
  readonly factory: (ctx: CollectorContext) => Collector;
}

const factories: CollectorFactory[] = [];

/**
 * Registers a collector that `parseFlags` makes once the flags are parsed, as
 * node_exporter's `registerCollector(name, defaultEnabled, factory)`: it gets its
 * `--[no-]collector.<name>` flag now, and when enabled `factory` is called with the
 * logger built from `--log.level` and `--log.format`, so that the collector can read
 * the exporter's own flags and log before its first scrape. The collector it returns
 * must have this `name`; it is registered with parseFlags' registry.
 *
 * @example
 * ```ts
 * const url = flag.string("upstream.url", { help: "URL of the JSON document.", required: true });
 * registerCollector("upstream", ({ logger }) => new UpstreamCollector(url(), logger));
 * const flags = await parseFlags({ identity: { name: "upstream_exporter" } });
 * ```
 */
export function registerCollector(
  name: string,
  factory: (ctx: CollectorContext) => Collector,
  opts: { readonly defaultEnabled?: boolean } = {},
): void {
  // The registry's rule for names, checked here already: the name becomes a flag now.
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) {
    throw new Error(
      `registerCollector: ${JSON.stringify(name)} is not a collector name (letters, digits, "_", "." or "-")`,
    );
  }
  if (factories.some((f) => f.name === name)) {
    throw new Error(`registerCollector: two collectors named ${JSON.stringify(name)}`);
  }
  factories.push({ name, factory, defaultEnabled: opts.defaultEnabled ?? true });
}

/** The settings the exporter runs with. */
export interface Flags {
  /** --web.listen-address: where to listen, one or more. */
  readonly listenAddresses: string[];
  /** --web.telemetry-path: the metrics path. */
  readonly telemetryPath: string;
  /** What the metrics handler does (limits, timeouts, OpenMetrics, error handling). */
  readonly handlerOpts: HandlerOpts;
  /** The logger built from --log.level and --log.format. */
  readonly logger: Logger;
  /** The registry the handler serves. */
  readonly registry: Registry;
  /** The runtime's adapter: serving, signals, arguments, environment. */
  readonly adapter: Adapter;
  /** Who the exporter is; the tutorial's (`exporter`, `ts_exporter`) when absent. */
  readonly identity?: Identity;
  /** --web.config.file: exporter-toolkit's web-config.yml; absent or empty for plain HTTP. */
  readonly webConfigFile?: string;
  /** --web.health-without-auth; true when absent. */
  readonly healthWithoutAuth?: boolean;
  /** --web.read-header-timeout, --web.idle-timeout, --web.write-timeout, --web.max-connections; the defaults when absent. */
  readonly connectionLimits?: ConnectionLimits;
  /** --web.server: the runtime's own HTTP server, or the kit's; the runtime's when absent. */
  readonly server?: "runtime" | "kit";
  /** How often the web config is read again, in ms; 2 s when absent (tests set less). */
  readonly webConfigReloadMs?: number;
}

/** Options for {@linkcode parseFlags}. */
export interface ParseOptions {
  /** The command line; defaults to the process' arguments. */
  readonly args?: string[];
  /** The registry whose collectors get `--collector.<name>` flags; the default registry by default. */
  readonly registry?: Registry;
  /**
   * Who the exporter is (see {@linkcode newIdentity}): `{ name: "upstream_exporter" }`
   * gives `usage: upstream_exporter`, `UPSTREAM_EXPORTER_*` variables and
   * `upstream_exporter_build_info`. The tutorial's identity when absent.
   */
  readonly identity?: Partial<Identity>;
  /** The exporter's own flags; the module-level `flag` set by default. */
  readonly flagSet?: FlagSet;
  /** Collectors to make once parsed; those given to {@linkcode registerCollector} by default. */
  readonly collectors?: readonly CollectorFactory[];
}

/**
 * Every flag `parseFlags(opts)` parses, in order: the kit's table, the exporter's own,
 * then one `--[no-]collector.<name>` per registered collector and per
 * {@linkcode registerCollector} factory. For `--help` and README tables
 * (see `flagTable`). Throws when two share a name.
 */
export function commandLineFlags(opts: Pick<ParseOptions, "registry" | "flagSet" | "collectors"> = {}): FlagDef[] {
  const made = opts.collectors ?? factories;
  const collectorDefs = [
    ...collectorFlagDefs(opts.registry ?? defaultRegistry),
    ...made.map((f) => collectorFlag(f.name, f.defaultEnabled)),
  ];
  const defs = [...flagDefs, ...(opts.flagSet ?? flag).defs, ...collectorDefs];
  const names = new Set<string>();
  for (const d of defs) {
    if (names.has(d.name)) {
      const c = d.name.startsWith("collector.") ? d.name.slice("collector.".length) : undefined;
      if (c !== undefined && collectorDefs.filter((x) => x.name === d.name).length > 1) {
        throw new Error(
          `two collectors named ${
            JSON.stringify(c)
          }: one registered with the registry, one with registerCollector; collector names must be unique`,
        );
      }
      throw new Error(`flag --${d.name} is defined twice (an exporter's own flag or collector may not reuse a name)`);
    }
    names.add(d.name);
  }
  return defs;
}

/**
 * Parses the command line and environment — the kit's flags, the exporter's own
 * (`flag.string(…)` and the others) and one `--[no-]collector.<name>` per collector —
 * and applies them to the registry (disabled collectors and exporter metrics are
 * unregistered; enabled {@linkcode registerCollector} collectors are made and
 * registered). Call it after registering collectors, so that each gets its flag.
 *
 * Prints the error and usage and exits 2 for a bad flag; exits with the action's code
 * for --help (-h), --version, --web.config.check and --healthcheck (web/actions.ts).
 * Throws, rather than exiting, for a program error: an own flag with the name of one
 * of the kit's, or a collector whose name is taken.
 */
export async function parseFlags(opts: ParseOptions = {}): Promise<Flags> {
  // The runtime's adapter is loaded once no action flag ended the process (see web/_command_line.ts).
  const cl = commandLine();
  const identity = newIdentity(opts.identity);
  const registry = opts.registry ?? defaultRegistry;
  const own = opts.flagSet ?? flag;
  const made = opts.collectors ?? factories;
  const defs = commandLineFlags(opts);
  const env: Record<string, string | undefined> = {};
  for (const d of defs) {
    const variable = flagEnv(d, identity.envPrefix);
    if (variable !== undefined) env[variable] = cl.getenv(variable);
  }
  const args = opts.args ?? cl.args();
  let v: FlagValues;
  try {
    v = parseArgs(defs, args, env, identity.envPrefix);
    validate(v, currentRuntime());
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    console.error(`${identity.name}: error: ${e.message}\n\n${usage(identity.name, defs, identity.envPrefix)}`);
    return cl.exit(2);
  }
  const code = await runAction(v, { defs, args, env, processArgs: cl.args(), identity });
  if (code !== undefined) return cl.exit(code);
  setParsedValues(own, v);
  const a = await adapter();

  for (const { name, collector } of registry.collectors()) {
    if (v[`collector.${name}`] === false) registry.unregister(collector);
  }
  const exporterMetrics = !v["web.disable-exporter-metrics"];
  if (!exporterMetrics && registry === defaultRegistry) { for (const c of defaultCollectors) registry.unregister(c); }

  const level = v["log.level"] as Level;
  const logger = newLogger(level, v["log.format"] as LogFormat);
  for (const f of made) {
    if (v[`collector.${f.name}`] === false) continue;
    const c = f.factory({ logger: logger.with({ collector: f.name }) });
    if (c.name !== f.name) {
      throw new Error(
        `registerCollector(${JSON.stringify(f.name)}): its factory made a collector named ${
          JSON.stringify(c.name)
        }; the two must agree`,
      );
    }
    registry.register(c);
  }
  return {
    listenAddresses: v["web.listen-address"] as string[],
    telemetryPath: v["web.telemetry-path"] as string,
    handlerOpts: {
      maxRequestsInFlight: v["web.max-requests"] as number,
      timeoutMs: v["web.timeout"] as number,
      writeTimeoutMs: v["web.write-timeout"] as number,
      enableOpenMetrics: v["web.enable-openmetrics"] as boolean,
      registry: exporterMetrics ? undefined : null,
      namespace: identity.namespace,
      errorLog: (msg, fields) => logger.error(msg, fields),
      ...(level === "debug"
        ? { debugLog: (msg: string, fields: Record<string, string | number>) => logger.debug(msg, fields) }
        : {}),
    },
    logger,
    registry,
    adapter: a,
    identity,
    webConfigFile: v["web.config.file"] as string,
    healthWithoutAuth: v["web.health-without-auth"] as boolean,
    connectionLimits: {
      readHeaderTimeoutMs: v["web.read-header-timeout"] as number,
      idleTimeoutMs: v["web.idle-timeout"] as number,
      writeTimeoutMs: v["web.write-timeout"] as number,
      maxConnections: v["web.max-connections"] as number,
    },
    server: v["web.server"] as "runtime" | "kit",
  };
}

function validate(v: FlagValues, runtime: Runtime): void {
  const path = v["web.telemetry-path"] as string;
  if (!path.startsWith("/")) {
    throw new FlagError(`invalid value ${JSON.stringify(path)} for flag --web.telemetry-path: must start with /`);
  }
  if ((v["web.max-requests"] as number) < 0) {
    throw new FlagError(`invalid value ${v["web.max-requests"]} for flag --web.max-requests: must not be negative`);
  }
  if ((v["web.max-connections"] as number) < 0) {
    throw new FlagError(
      `invalid value ${v["web.max-connections"]} for flag --web.max-connections: must not be negative`,
    );
  }
  for (const addr of v["web.listen-address"] as string[]) splitHostPort(addr);
  // Bun.serve cannot limit connections nor time headers (README, "Connections"): a bound
  // asked for and silently not applied would be believed to be there, so it is refused
  // as an unenforceable web config setting is (web/capabilities.ts).
  if (runtime === "bun" && v["web.server"] === "runtime") {
    for (const [name, def] of unenforcedOnBunServe) {
      if (v[name] !== def) {
        throw new FlagError(
          `flag --${name} is not enforced by Bun.serve (--web.server=runtime); ` +
            `add --web.server=kit, whose HTTP/1.1 server enforces it, or leave the flag at its default`,
        );
      }
    }
  }
}

/** The connection flags Bun.serve cannot apply, with the defaults it is documented not to. */
const unenforcedOnBunServe: readonly [string, number][] = [
  ["web.read-header-timeout", defaultConnectionLimits.readHeaderTimeoutMs],
  ["web.max-connections", defaultConnectionLimits.maxConnections],
];
