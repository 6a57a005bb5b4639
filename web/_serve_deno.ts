// The Deno adapter: Deno.serve and Deno's signal listeners.
import type { Adapter, Listener, ListenOptions } from "./server.ts";
import { internalError } from "./server.ts";

declare const Deno: {
  serve(
    o: unknown,
    h: (req: Request) => Promise<Response>,
  ): { addr: { hostname: string; port: number }; shutdown(): Promise<void>; finished: Promise<void> };
  addSignalListener(sig: string, fn: () => void): void;
  args: string[];
  env: { get(name: string): string | undefined };
  exit(code: number): never;
};

export const denoAdapter: Adapter = {
  listen(o: ListenOptions): Promise<Listener> {
    return new Promise((resolve, reject) => {
      try {
        const server = Deno.serve({
          hostname: o.hostname,
          port: o.port,
          onListen: () => {}, // main logs its own line
          onError: (e: unknown) => {
            o.onError(e);
            return internalError();
          },
        }, async (req: Request) => {
          try {
            return await o.handler(req);
          } catch (e) {
            o.onError(e);
            return internalError();
          }
        });
        resolve({
          hostname: server.addr.hostname,
          port: server.addr.port,
          // shutdown() stops accepting and resolves when in-flight requests are done.
          stop: () => server.shutdown(),
        });
      } catch (e) {
        reject(e);
      }
    });
  },
  onShutdownSignal(fn) {
    let fired = false;
    for (const sig of ["SIGTERM", "SIGINT"]) {
      Deno.addSignalListener(sig, () => {
        if (!fired) fn(sig);
        fired = true;
      });
    }
  },
  args: () => Deno.args,
  getenv: (name) => {
    try {
      return Deno.env.get(name);
    } catch {
      return undefined; // not permitted by --allow-env: the flag's default applies
    }
  },
  exit: (code) => Deno.exit(code),
};
