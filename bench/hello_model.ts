// bench/hello_serve.ts with the exporter's model loaded as main.ts loads it: the
// prometheus/ modules evaluated, the default registry made (process and runtime
// collectors) and fooCollector registered; no handler, no web/, nothing gathered. It
// answers a fixed body, so that its idle RSS less hello_serve's is what loading the
// model costs before any request of the exporter's runs: make bench's idle step reads
// the exporter's excess over hello_serve in steps. Usage: hello_model PORT
import process from "node:process";
import { newFooCollector } from "../collector.ts";
import { mustRegister } from "../prometheus/mod.ts";

declare const Bun: {
  serve(o: { hostname: string; port: number; development: false; fetch: () => Response }): unknown;
};
mustRegister(newFooCollector());
const port = Number(process.argv[2] ?? 8080);
Bun.serve({ hostname: "127.0.0.1", port, development: false, fetch: () => new Response("hello\n") });
