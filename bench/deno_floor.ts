// The floors under `deno run`'s CPU per scrape: one fixed 5,000-byte answer, with no
// registry or collector behind it, served either by Deno.serve (the runtime's own
// server, which the exporter does not use: it cannot bound connections or header time,
// RELIABILITY.md) or by the exporter's own path (parseFlags and listenAndServe: the
// kit's HTTP/1.1 server on Deno.listen, the guard, the routes). bench/run.ts times both
// under the same wrk load as the exporter.
//   deno run <DENO_PERMS> bench/deno_floor.ts serve|kit --web.listen-address=127.0.0.1:PORT
import process from "node:process";
import { listenAndServe, parseFlags } from "../web/mod.ts";

declare const Deno: {
  serve(o: { hostname: string; port: number; onListen: () => void }, h: () => Response): unknown;
};

const body = new Uint8Array(5_000).fill(0x61);
const answer = () => new Response(body, { headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" } });
const [mode, ...args] = process.argv.slice(2);
if (mode === "serve") {
  const listen = args.find((a) => a.startsWith("--web.listen-address="))?.split("=")[1] ?? "127.0.0.1:8080";
  const colon = listen.lastIndexOf(":");
  Deno.serve({ hostname: listen.slice(0, colon), port: Number(listen.slice(colon + 1)), onListen: () => {} }, answer);
} else if (mode === "kit") {
  const flags = await parseFlags({ args });
  await listenAndServe(flags, () => Promise.resolve(answer()));
} else {
  throw new Error(`bench/deno_floor.ts: the first argument is "serve" or "kit", not ${JSON.stringify(mode)}`);
}
