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
 * @module
 */
export { splitHostPort } from "./address.ts";
export { collectorFlagDefs, flagDefs, type Flags, parseFlags, type ParseOptions } from "./exporter_flags.ts";
export { envName, type FlagDef, FlagError, parseArgs, parseDuration, usage } from "./flags.ts";
export { healthcheck } from "./healthcheck.ts";
export { escapeHTML, landingPage } from "./landing.ts";
export { type Level, type Logger, type LogFormat, newLogger } from "./log.ts";
export { listenAndServe, type Running, shutdownGraceMs } from "./listen_and_serve.ts";
export { adapter, type Adapter, type ConnectionLimits, type Listener, type ListenOptions, type TLSOptions } from "./adapter.ts";
// web/webconfig.ts, web/webconfig_reload.ts, web/protect.ts and web/auth.ts are not
// re-exported: importing them loads the YAML library and bcrypt, which listenAndServe
// does only for --web.config.file.
export { newBuildInfoCollector, program } from "./version.ts";
