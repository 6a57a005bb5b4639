// A server on the adapter that web/adapter.ts picks, for web/serve_node_test.ts, which
// bundles this file for Node (`bun build --target=node`) and runs it there. Routes
// exercise what the adapter translates: headers both ways, request bodies, streamed
// bodies, a handler that throws, a client that goes away, and graceful stop on
// SIGTERM. Its stdout says what happened, one line per event.
//
//   node server.mjs ['{"cert":"server.crt","key":"server.key",…}']   (TLSOptions, with file paths)
import { readFileSync } from "node:fs";
import process from "node:process";
import { adapter, type TLSOptions } from "../adapter.ts";

const say = (line: string) => process.stdout.write(line + "\n");
const text = (body: string, init: ResponseInit = {}) => {
  const headers = new Headers(init.headers);
  headers.set("Content-Type", "text/plain; charset=utf-8");
  return new Response(body, { ...init, headers });
};

let release: () => void = () => {};
const released = () => new Promise<void>((r) => release = r);

async function handle(req: Request): Promise<Response> {
  const url = new URL(req.url);
  switch (url.pathname) {
    case "/hello": {
      const headers = new Headers({ "X-Echo": req.headers.get("x-test") ?? "" });
      headers.append("Set-Cookie", "a=1");
      headers.append("Set-Cookie", "b=2");
      return text("hello\n", { status: 201, statusText: "Made", headers });
    }
    case "/echo":
      return text(`${req.method} ${(await req.arrayBuffer()).byteLength} ${req.url}\n`);
    case "/stream": {
      // The second chunk waits for /release: a client that reads the first one
      // before that shows the body is streamed, not buffered.
      const wait = released();
      const enc = new TextEncoder();
      return new Response(new ReadableStream({
        async start(c) {
          c.enqueue(enc.encode("first\n"));
          await wait;
          c.enqueue(enc.encode("second\n"));
          c.close();
        },
      }));
    }
    case "/release":
      release();
      return text("released\n");
    case "/forever":
      // Never ends by itself; the adapter must cancel it when the client goes.
      return new Response(new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode("tick\n"));
        },
        cancel() {
          say("cancelled");
        },
      }));
    case "/slow":
      say("slow started");
      await new Promise((r) => setTimeout(r, 500));
      return text("slow done\n");
    case "/throw":
      throw new Error("boom");
  }
  return text("404 page not found\n", { status: 404 });
}

const a = await adapter();
const tlsArg = process.argv[2] ? JSON.parse(process.argv[2]) : undefined;
const tls: TLSOptions | undefined = tlsArg && {
  ...tlsArg,
  cert: readFileSync(tlsArg.cert, "utf8"),
  key: readFileSync(tlsArg.key, "utf8"),
  ...(tlsArg.clientCA ? { clientCA: readFileSync(tlsArg.clientCA, "utf8") } : {}),
};
// Connection limits as JSON (ConnectionLimits), for the tests of the connection flags.
const limits = process.env.NODE_SERVER_LIMITS ? JSON.parse(process.env.NODE_SERVER_LIMITS) : undefined;
const l = await a.listen({
  hostname: "127.0.0.1",
  port: 0,
  handler: handle,
  onError: (e) => say(`onError: ${(e as Error).message}`),
  tls,
  limits,
  onConnectionRefused: () => say("connection refused"),
});
a.onShutdownSignal(async (sig) => {
  say(`signal ${sig}`);
  await l.stop();
  say("stopped");
  a.exit(0);
});
say(`listening ${l.port} args=${a.args().join(",")} env=${a.getenv("NODE_SERVER_TEST") ?? ""}`);
