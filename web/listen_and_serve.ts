import type { Handler } from "../promhttp/handler.ts";
import { defaultNamespace, selectableCollectors } from "../promhttp/collector_metrics.ts";
import { runtimeInfo } from "../prometheus/runtime_collector.ts";
import { joinHostPort, listenHostnames, splitHostPort } from "./address.ts";
import type { Flags } from "./exporter_flags.ts";
import { RequestGuard } from "./guard.ts";
import { landingPage } from "./landing.ts";
import {
  type ConnectionLimits,
  defaultConnectionLimits,
  effectiveMaxConnections,
  type Listener,
  type TLSOptions,
} from "./adapter.ts";
import { RefusedConnections } from "./_connections.ts";
import { defaultIdentity, newBuildInfoCollector } from "./version.ts";

/**
 * Listens on the first of `hostnames` that works. A port in use is final: another
 * hostname (0.0.0.0 after ::) would fail the same way or, worse, share the port.
 */
async function listenAny(hostnames: string[], listen: (hostname: string) => Promise<Listener>): Promise<Listener> {
  for (let i = 0;; i++) {
    try {
      return await listen(hostnames[i]);
    } catch (e) {
      const inUse = /EADDRINUSE|in use/i.test(
        `${(e as { code?: string }).code ?? ""} ${e instanceof Error ? e.message : e}`,
      );
      if (inUse || i === hostnames.length - 1) throw e;
    }
  }
}

/** How long in-flight scrapes may run on after SIGTERM before the process exits anyway. */
export const shutdownGraceMs = 10_000;

/** A running exporter: its listeners, and a way to stop it as SIGTERM does. */
export interface Running {
  /** One listener per listen address. */
  readonly listeners: Listener[];
  /** Stops accepting and waits for in-flight requests (at most {@linkcode shutdownGraceMs}). */
  shutdown(): Promise<void>;
}

function plain(status: number, body: string): Response {
  return new Response(body, { status, headers: { "Content-Type": "text/plain; charset=utf-8" } });
}

/**
 * Serves `metricsHandler` on the telemetry path of every listen address, the landing
 * page at `/`, and `/-/healthy` and `/-/ready`, which answer without running
 * collectors; other paths get 404. Registers `<namespace>_build_info`. Logs one
 * start-up line naming the identity's version, the runtime and the enabled
 * collectors, then one "Listening on" line per address (IPv6 in brackets). An address
 * without a host (`:8080`) listens on every IPv4 and IPv6 address, as Go's does.
 *
 * With `flags.webConfigFile` (exporter-toolkit's web-config.yml) it serves TLS and
 * basic authentication as the file says, reads the file and its certificates again
 * when they change, and exits 1 naming the file and the key when the file is
 * invalid or asks for what the runtime cannot enforce (web/capabilities.ts).
 *
 * On SIGTERM or SIGINT it stops accepting, lets in-flight scrapes finish (for at most
 * {@linkcode shutdownGraceMs}) and exits 0.
 */
export async function listenAndServe(flags: Flags, metricsHandler: Handler): Promise<Running> {
  const { logger, registry } = flags;
  const identity = flags.identity ?? defaultIdentity;
  const namespace = flags.handlerOpts.namespace ?? flags.identity?.namespace ?? defaultNamespace;
  registry.register(newBuildInfoCollector(namespace, identity));
  const guard = new RequestGuard(namespace, logger);
  registry.register(guard.collector());
  let ready = false;
  const route = (req: Request): Promise<Response> | Response => {
    const path = new URL(req.url).pathname;
    if (path === flags.telemetryPath) return metricsHandler(req);
    if (path === "/-/healthy") return plain(200, "Healthy.\n");
    if (path === "/-/ready") return ready ? plain(200, "Ready.\n") : plain(503, "Not ready.\n");
    if (path === "/" && (req.method === "GET" || req.method === "HEAD")) {
      return landingPage({
        name: identity.name,
        version: identity.version,
        metricsPath: flags.telemetryPath,
        registry,
      });
    }
    return plain(404, "404 page not found\n");
  };
  let handler: (req: Request) => Promise<Response> | Response = route;
  let security: import("./webconfig_reload.ts").WebSecurity | undefined;
  if (flags.webConfigFile) {
    // Imported only here, so that without a web config neither YAML nor bcrypt loads.
    const { WebSecurity } = await import("./webconfig_reload.ts");
    try {
      security = await WebSecurity.load(flags.webConfigFile, { logger, healthWithoutAuth: flags.healthWithoutAuth });
    } catch (e) {
      logger.error("invalid web config", { err: e });
      return flags.adapter.exit(1);
    }
    logger.info(security.tls ? "TLS is enabled." : "TLS is disabled.", security.describe());
    handler = security.wrap(route);
  }
  handler = guard.wrap(handler);
  const wanted: ConnectionLimits = flags.connectionLimits ??
    {
      ...defaultConnectionLimits,
      writeTimeoutMs: flags.handlerOpts.writeTimeoutMs ?? defaultConnectionLimits.writeTimeoutMs,
    };
  const softLimit = flags.adapter.descriptorLimit?.();
  const limits = { ...wanted, maxConnections: effectiveMaxConnections(wanted.maxConnections, softLimit) };
  if (limits.maxConnections !== wanted.maxConnections) {
    logger.info("connection limit lowered to fit the descriptor limit", {
      max_connections: limits.maxConnections,
      wanted: wanted.maxConnections,
      descriptor_limit: softLimit,
    });
  }
  const refused = new RefusedConnections(namespace, logger, limits.maxConnections);
  registry.register(refused.collector());
  const listen = (hostname: string, port: number, tls: TLSOptions | undefined) =>
    flags.adapter.listen({
      hostname,
      port,
      handler,
      onError: (e) => logger.error("error serving request", { err: e }),
      tls,
      limits,
      onConnectionRefused: refused.refused,
      ...(flags.server ? { server: flags.server } : {}),
      // With TLS the listener is replaced when the certificates change: where the
      // runtime allows, the new one binds the same port before the old one stops.
      reusePort: tls !== undefined && flags.adapter.reusePortWithTLS === true,
    });
  const { runtime, version: runtimeVersion } = runtimeInfo();
  logger.info(`Starting ${identity.name}`, {
    version: identity.version,
    revision: identity.revision,
    runtime,
    runtime_version: runtimeVersion,
    collectors: selectableCollectors(registry).join(","),
  });
  const listeners: Listener[] = [];
  for (const addr of flags.listenAddresses) {
    const { hostname, port } = splitHostPort(addr);
    try {
      listeners.push(await listenAny(listenHostnames(hostname), (h) => listen(h, port, security?.tls)));
    } catch (e) {
      logger.error("error listening", { address: addr, err: e });
      await Promise.all(listeners.map((l) => l.stop()));
      return flags.adapter.exit(1);
    }
    const l = listeners.at(-1)!;
    logger.info("Listening on", { address: joinHostPort(l.hostname, l.port), path: flags.telemetryPath });
  }
  let stopping: Promise<void> | undefined;
  const unwatch = security?.watch(async (tls) => {
    if (!flags.adapter.reusePortWithTLS) {
      // Stop first, then listen again: connections in that moment are refused.
      const old = listeners.splice(0);
      await Promise.all(old.map((l) => l.stop()));
      for (const l of old) listeners.push(await listen(l.hostname, l.port, tls));
      return;
    }
    // All new listeners first, so that a failure leaves the old ones serving.
    const started = await Promise.allSettled(listeners.map((l) => listen(l.hostname, l.port, tls)));
    const fresh = started.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
    const failed = started.find((r) => r.status === "rejected");
    if (failed) {
      await Promise.all(fresh.map((l) => l.stop()));
      throw failed.reason;
    }
    const old = listeners.splice(0, listeners.length, ...fresh);
    if (stopping) await Promise.all(fresh.map((l) => l.stop()));
    await Promise.all(old.map((l) => l.stop()));
  }, flags.webConfigReloadMs);
  ready = true;
  const shutdown = () =>
    stopping ??= (async () => {
      unwatch?.();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const bound = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), shutdownGraceMs));
      const r = await Promise.race([Promise.all(listeners.map((l) => l.stop())), bound]);
      clearTimeout(timer);
      if (r === "timeout") {
        logger.warn("in-flight requests did not finish in time", {
          grace: `${shutdownGraceMs / 1000}s`,
        });
      }
    })();
  flags.adapter.onShutdownSignal(async (signal) => {
    logger.info("Shutting down", { signal });
    await shutdown();
    flags.adapter.exit(0);
  });
  return { listeners, shutdown };
}
