// listenAndServe in-process on 127.0.0.1, port 0, with a web config: for the tests
// of basic auth and TLS. Signals are left alone; exit() throws instead of exiting.
import { handlerFor } from "../../promhttp/handler.ts";
import { CountingCollector, registryWith } from "../../testing/http.ts";
import type { Flags } from "../exporter_flags.ts";
import { newLogger } from "../log.ts";
import { listenAndServe, type Running } from "../listen_and_serve.ts";
import { adapter } from "../adapter.ts";

/** A running exporter and the log lines it wrote. */
export interface Secured {
  readonly port: number;
  readonly logs: string[];
  readonly running: Running;
}

/** Starts an exporter with `webConfigFile`, reading it again every `reloadMs`. */
export async function startSecured(webConfigFile: string, opts: { healthWithoutAuth?: boolean; reloadMs?: number } = {}): Promise<Secured> {
  const logs: string[] = [];
  const registry = registryWith(new CountingCollector("counting"));
  const flags: Flags = {
    listenAddresses: ["127.0.0.1:0"],
    telemetryPath: "/metrics",
    handlerOpts: {},
    logger: newLogger("debug", "logfmt", (l) => logs.push(l)),
    registry,
    adapter: {
      ...(await adapter()),
      onShutdownSignal: () => {},
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
  };
  const running = await listenAndServe(flags, handlerFor(registry, {}));
  return { port: running.listeners[0].port, logs, running };
}
