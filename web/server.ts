/** What a runtime adapter needs to serve one address. */
export interface ListenOptions {
  readonly hostname: string;
  readonly port: number;
  readonly handler: (req: Request) => Promise<Response> | Response;
  /** Called for an error the handler did not turn into a response. */
  readonly onError: (err: unknown) => void;
}

/** A listening server. */
export interface Listener {
  /** The address it listens on, with the port the system picked for port 0. */
  readonly hostname: string;
  readonly port: number;
  /** Stops accepting connections and resolves when in-flight requests are done. */
  stop(): Promise<void>;
}

/** One adapter per runtime: Bun.serve or Deno.serve, and the runtime's signals. */
export interface Adapter {
  listen(opts: ListenOptions): Promise<Listener>;
  /** Calls `fn` once for SIGTERM or SIGINT. */
  onShutdownSignal(fn: (signal: string) => void): void;
  /** The command-line arguments after the program. */
  args(): string[];
  /** An environment variable, or undefined when unset or not permitted. */
  getenv(name: string): string | undefined;
  exit(code: number): never;
}

/** Loads the adapter for the runtime this process runs on. */
export async function adapter(): Promise<Adapter> {
  if ("Bun" in globalThis) return (await import("./_serve_bun.ts")).bunAdapter;
  if ("Deno" in globalThis) return (await import("./_serve_deno.ts")).denoAdapter;
  throw new Error("unsupported runtime: run with Bun or Deno");
}

/** The internal error page: a client never sees a stack trace. */
export function internalError(): Response {
  return new Response("Internal Server Error\n", {
    status: 500,
    headers: { "Content-Type": "text/plain; charset=utf-8" },
  });
}
