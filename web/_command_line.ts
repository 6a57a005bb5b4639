// The part of each runtime's adapter (web/_serve_*.ts) that parseFlags needs before it
// knows whether the process will serve: the arguments, the environment and exit. The
// adapters themselves are loaded only once the flags are parsed and no action flag
// (--help, --version, --healthcheck, --web.config.check) ended the process: Bun's
// loads node:fs and the kit's HTTP/1.1 server, ~3 ms of a compiled binary's
// `--version` and `--healthcheck` (measured: 17.9 -> 15.0 ms and 18.9 -> 16.7 ms,
// medians of 40 interleaved runs), which Docker runs every interval.
import process from "node:process";
import type { Adapter } from "./adapter.ts";

type DenoGlobal = {
  args: string[];
  env: { get(name: string): string | undefined };
  exit(code: number): never;
};

/** The arguments, environment and exit of the runtime this process runs on, as its adapter gives them. */
export function commandLine(): Pick<Adapter, "args" | "getenv" | "exit"> {
  const deno = (globalThis as { Deno?: DenoGlobal }).Deno;
  if (deno) {
    return {
      args: () => deno.args,
      getenv: (name) => {
        try {
          return deno.env.get(name);
        } catch {
          return undefined; // not permitted by --allow-env: the flag's default applies
        }
      },
      exit: (code) => deno.exit(code),
    };
  }
  // Bun and Node: Bun.env is process.env.
  return {
    args: () => process.argv.slice(2),
    getenv: (name) => process.env[name],
    exit: (code) => process.exit(code),
  };
}
