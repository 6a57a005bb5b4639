// Where --healthcheck asks (issue 15 part 6): its own flags when it was given a target
// flag, else the running exporter's, read from PID 1 when PID 1 runs the same program.
// The PID 1 cases run web/testdata/healthcheck_target.ts in a fresh PID namespace
// (unshare; as root or with user namespaces), as a container runtime would.
import { describe, expect, test } from "bun:test";
import { flagDefs } from "./exporter_flags.ts";
import { envName, parseArgs } from "./flags.ts";
import { healthcheckTarget } from "./healthcheck.ts";
import { run, runArgv } from "../testing/process.ts";

describe("healthcheckTarget", () => {
  const own = (args: string[], env: Record<string, string> = {}) => parseArgs(flagDefs, args, env);

  const givenCases: [string, string[], Record<string, string>][] = [
    ["--web.listen-address=", ["--healthcheck", "--web.listen-address=127.0.0.1:1"], {}],
    ["--web.listen-address VALUE", ["--healthcheck", "--web.listen-address", "127.0.0.1:1"], {}],
    ["--web.config.file=", ["--healthcheck", "--web.config.file=w.yml"], {}],
    ["EXPORTER_WEB_LISTEN_ADDRESS", ["--healthcheck"], { [envName("web.listen-address")]: "127.0.0.1:1" }],
    ["EXPORTER_WEB_CONFIG_FILE", ["--healthcheck"], { [envName("web.config.file")]: "w.yml" }],
  ];
  for (const [name, args, env] of givenCases) {
    test(`given its own ${name}: its own values, /proc unread`, async () => {
      const v = own(args, env);
      expect(await healthcheckTarget(flagDefs, v, args, env)).toBe(v);
    });
  }

  const script = "web/testdata/healthcheck_target.ts";
  const inNamespace = (cmd: string[], env: Record<string, string> = {}) =>
    run("unshare", ["--user", "--map-root-user", "--pid", "--fork", "--mount-proc", ...cmd], "", 20_000, env);

  test("PID 1 runs the same program: its --web.listen-address and --web.config.file", async () => {
    const r = await inNamespace([
      ...runArgv({ allowAll: true }),
      script,
      "--web.listen-address=127.0.0.1:9999",
      "--web.config.file",
      "w.yml",
      "--log.level=debug",
    ]);
    expect(`${r.code} ${r.stdout}${r.stderr}`).toBe(`0 [["127.0.0.1:9999"],"w.yml"]\n`);
  }, 30_000);

  test("PID 1 runs the same program with the address in its environment: that address", async () => {
    const r = await inNamespace([...runArgv({ allowAll: true }), script], {
      [envName("web.listen-address")]: "127.0.0.1:9998",
    });
    expect(`${r.code} ${r.stdout}${r.stderr}`).toBe(`0 [["127.0.0.1:9998"],""]\n`);
  }, 30_000);

  test("PID 1 runs another program (a shell): the defaults", async () => {
    // The shell stays PID 1 (the command is not its last, so it does not exec it).
    const r = await inNamespace([
      "sh",
      "-c",
      '"$@" --healthcheck; exit $?',
      "sh",
      ...runArgv({ allowAll: true }),
      script,
    ]);
    expect(`${r.code} ${r.stdout}${r.stderr}`).toBe(`0 [[":8080"],""]\n`);
  }, 30_000);
});
