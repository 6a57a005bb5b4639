/**
 * The server around the metrics handler, as exporter-toolkit: the ecosystem's flags,
 * structured logs, landing page, health endpoints, one adapter per runtime and
 * graceful shutdown.
 *
 * @example
 * ```ts
 * mustRegister(newFooCollector());
 * const flags = await parseFlags();
 * await listenAndServe(flags, handler(flags.handlerOpts));
 * ```
 *
 * An exporter of its own defines its flags and identity, as with kingpin:
 *
 * ```ts
 * const url = flag.string("upstream.url", { help: "URL of the JSON document.", required: true });
 * registerCollector("upstream", ({ logger }) => new UpstreamCollector(url(), logger));
 * const flags = await parseFlags({ identity: { name: "upstream_exporter" } });
 * await listenAndServe(flags, handler(flags.handlerOpts));
 * ```
 * @module
 */
export { joinHostPort, listenHostnames, splitHostPort } from "./address.ts";
export {
  type CollectorContext,
  type CollectorFactory,
  collectorFlagDefs,
  commandLineFlags,
  flagDefs,
  type Flags,
  parseFlags,
  type ParseOptions,
  registerCollector,
} from "./exporter_flags.ts";
export {
  defaultEnvPrefix,
  type DurationDefault,
  envName,
  flag,
  type FlagDef,
  flagEnv,
  FlagError,
  type FlagOptions,
  FlagSet,
  flagTable,
  type FlagValue,
  type FlagValues,
  formatDefault,
  parseArgs,
  parseDuration,
  usage,
} from "./flags.ts";
export { healthcheck } from "./healthcheck.ts";
export { escapeHTML, landingPage } from "./landing.ts";
export { type Level, levels, type LogFormat, type Logger, newLogger } from "./log.ts";
export { listenAndServe, type Running, shutdownGraceMs } from "./listen_and_serve.ts";
export {
  type Adapter,
  adapter,
  type ConnectionLimits,
  type Listener,
  type ListenOptions,
  type TLSOptions,
} from "./adapter.ts";
// web/webconfig.ts, web/webconfig_reload.ts, web/protect.ts and web/auth.ts are not
// re-exported: importing them loads the YAML library and bcrypt, which listenAndServe
// does only for --web.config.file.
export { defaultIdentity, type Identity, newBuildInfoCollector, newIdentity, program } from "./version.ts";
