// The flags that act instead of serving, as kingpin's actions: --help, --version,
// --web.config.check and --healthcheck each print or check one thing and give the
// exit code. parseFlags runs them once the command line has parsed, before it touches
// the registry or the logger.
import { type FlagDef, type FlagValues, usage } from "./flags.ts";
import { healthcheck, healthcheckTarget } from "./healthcheck.ts";
import type { Identity } from "./version.ts";

/** What an action may need beyond the parsed values: how they were parsed. */
export interface ActionContext {
  /** The flag definitions `values` was parsed with (the table and the collectors'). */
  readonly defs: readonly FlagDef[];
  /** The arguments `values` was parsed from. */
  readonly args: readonly string[];
  /** The environment variables `values` was parsed with, by name. */
  readonly env: Record<string, string | undefined>;
  /** This process' own arguments (the adapter's `args()`), which `args` may differ from. */
  readonly processArgs: readonly string[];
  /** Who the exporter is: the name in usage and --version, the variables' prefix. */
  readonly identity: Identity;
}

/**
 * Runs the first action set in `values`, in the order --help, --version,
 * --web.config.check, --healthcheck, and resolves to its exit code; to undefined
 * when none is set, and the exporter is to serve.
 */
export async function runAction(values: FlagValues, ctx: ActionContext): Promise<number | undefined> {
  const id = ctx.identity;
  if (values.help) {
    console.log(usage(id.name, ctx.defs, id.envPrefix));
    return 0;
  }
  if (values.version) {
    console.log(`${id.name}, version ${id.version} (revision: ${id.revision})`);
    return 0;
  }
  if (values["web.config.check"]) return await checkWebConfig(values["web.config.check"] as string, id.name);
  if (values.healthcheck) {
    const t = await healthcheckTarget(ctx.defs, values, ctx.args, ctx.env, ctx.processArgs, id.envPrefix);
    return await healthcheck((t["web.listen-address"] as string[])[0], t["web.config.file"] as string, id.name);
  }
  return undefined;
}

/** --web.config.check: prints "ok" and returns 0, or prints the reason and returns 1. */
async function checkWebConfig(file: string, program: string): Promise<number> {
  // Imported here only, so that serving without a web config never loads YAML.
  const { loadWebConfig } = await import("./webconfig.ts");
  const { currentRuntime } = await import("./capabilities.ts");
  try {
    await loadWebConfig(file, currentRuntime());
  } catch (e) {
    console.error(`${program}: ${e instanceof Error ? e.message : e}`);
    return 1;
  }
  console.log("ok");
  return 0;
}
