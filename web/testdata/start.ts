// listenAndServe in-process on 127.0.0.1, port 0: for the tests of basic auth and TLS
// (with a web config) and of the connection flags. Signals are left alone.
import { handlerFor } from "../../promhttp/handler.ts";
import { CountingCollector, registryWith } from "../../testing/http.ts";
import type { Flags } from "../exporter_flags.ts";
import { newLogger } from "../log.ts";
import { listenAndServe, type Running } from "../listen_and_serve.ts";
import { type Adapter, adapter } from "../adapter.ts";

/** A running exporter and the log lines it wrote. */
export interface Secured {
  readonly port: number;
  readonly logs: string[];
  readonly running: Running;
}

/** Flags of {@linkcode startInProcess}: any of Flags, and adapter functions to replace. */
export type InProcessFlags = Partial<Omit<Flags, "adapter">> & { readonly adapter?: Partial<Adapter> };

/**
 * Starts an exporter in process on 127.0.0.1, port 0, serving a CountingCollector:
 * signals left alone, log lines pushed to `logs`, `flags` over the defaults.
 */
export async function startInProcess(flags: InProcessFlags = {}, logs: string[] = []): Promise<Secured> {
  const registry = registryWith(new CountingCollector("counting"));
  const all: Flags = {
    listenAddresses: ["127.0.0.1:0"],
    telemetryPath: "/metrics",
    handlerOpts: {},
    logger: newLogger("debug", "logfmt", (l) => logs.push(l)),
    registry,
    ...flags,
    adapter: { ...(await adapter()), onShutdownSignal: () => {}, ...flags.adapter },
  };
  const running = await listenAndServe(all, handlerFor(registry, {}));
  return { port: running.listeners[0].port, logs, running };
}

/** Starts an exporter with `webConfigFile`, reading it again every `reloadMs`; exit() throws instead of exiting. */
export function startSecured(
  webConfigFile: string,
  opts: { healthWithoutAuth?: boolean; reloadMs?: number } = {},
): Promise<Secured> {
  const logs: string[] = [];
  return startInProcess({
    adapter: {
      exit: (code) => {
        throw new Error(`exit ${code}: ${logs.join("\n")}`);
      },
    },
    webConfigFile,
    healthWithoutAuth: opts.healthWithoutAuth,
    webConfigReloadMs: opts.reloadMs ?? 100,
    // TEST_WEB_SERVER=kit runs these tests on the kit's HTTP/1.1 server where the
    // runtime's own is the default (Bun): `TEST_WEB_SERVER=kit bun test web/tls_test.ts`.
    ...(globalThis.process?.env?.TEST_WEB_SERVER === "kit" ? { server: "kit" as const } : {}),
  }, logs);
}
