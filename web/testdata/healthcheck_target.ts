// For web/healthcheck_test.ts: run as PID 1 of a fresh PID namespace with an exporter's
// flags, it runs itself again (the same executable, the same script) as a HEALTHCHECK
// would, `--healthcheck` and no EXPORTER_* variables, and exits with that child's
// code; the child prints where healthcheckTarget would ask, as JSON.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { flagDefs } from "../exporter_flags.ts";
import { parseArgs } from "../flags.ts";
import { healthcheckTarget } from "../healthcheck.ts";

const args = "Deno" in globalThis ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args : process.argv.slice(2);
if (args.includes("--healthcheck")) {
  const own = parseArgs(flagDefs, args, {});
  const t = await healthcheckTarget(flagDefs, own, args, {});
  console.log(JSON.stringify([t["web.listen-address"], t["web.config.file"]]));
} else {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("EXPORTER_")));
  // What came before the flags, spelt as this process was started (a HEALTHCHECK
  // names the program as the entrypoint does).
  const argv = readFileSync("/proc/self/cmdline", "utf8").split("\0").slice(0, -1);
  const lead = argv.slice(1, argv.length - args.length);
  const r = spawnSync(process.execPath, [...lead, "--healthcheck"], { env, stdio: "inherit", timeout: 10_000 });
  process.exit(r.status ?? 1);
}
