// A minimal Bun.serve server, compiled with the exporter's flags: the baseline for the
// idle-RSS target. Usage: hello_serve PORT
import process from "node:process";

declare const Bun: {
  serve(o: { hostname: string; port: number; development: boolean; fetch: () => Response }): unknown;
};
const port = Number(process.argv[2] ?? 8080);
Bun.serve({ hostname: "127.0.0.1", port, development: false, fetch: () => new Response("hello\n") });
