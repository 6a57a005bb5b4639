// A stand-in for the upstream in the tests: serves a status document on 127.0.0.1,
// on a port the system picks, through the kit's own runtime adapter (Bun.serve or
// Deno.serve), and tells the test what it was asked.
import { adapter, type Listener } from "@ts-exporter-kit/kit/web";

/** A running stand-in upstream. */
export interface Upstream {
  readonly url: string;
  /** How many requests reached it. */
  readonly requests: () => number;
  stop(): Promise<void>;
}

/**
 * Serves `answer()` at /status: a JSON value (200), a Response as it is, or a Promise
 * that never settles, for a hanging upstream; `stop()` answers those 503, as a server's
 * stop waits for the requests in flight.
 */
export async function startUpstream(answer: () => unknown): Promise<Upstream> {
  let requests = 0;
  let stopping!: (r: Response) => void;
  const stopped = new Promise<Response>((resolve) => stopping = resolve);
  const l: Listener = await (await adapter()).listen({
    hostname: "127.0.0.1",
    port: 0,
    onError: () => {},
    handler: async (req) => {
      requests++;
      if (new URL(req.url).pathname !== "/status") return new Response("not found\n", { status: 404 });
      const a = await Promise.race([answer(), stopped]);
      return a instanceof Response ? a : Response.json(a);
    },
  });
  return {
    url: `http://127.0.0.1:${l.port}/status`,
    requests: () => requests,
    stop: () => {
      stopping(new Response("stopping\n", { status: 503 }));
      return l.stop();
    },
  };
}

/** A document with two queues, as the upstream serves it. */
export const twoQueues = {
  version: "1.4.2",
  queues: [
    { name: "default", depth: 3, processed: 120, failed: 2 },
    { name: "mail", depth: 0, processed: 7, failed: 0 },
  ],
};
