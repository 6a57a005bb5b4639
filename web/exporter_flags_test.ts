// parseFlags in-process, for what an exporter of its own adds: its flags next to the
// kit's, its identity, and collectors made once the flags are parsed. (main.ts as a
// subprocess is in flags_test.ts; a whole exporter of its own in examples/.)
import { afterEach, describe, expect, test } from "bun:test";
import process from "node:process";
import type { Collector } from "../prometheus/collector.ts";
import { newDesc } from "../prometheus/desc.ts";
import { Registry } from "../prometheus/registry.ts";
import {
  type CollectorContext,
  type CollectorFactory,
  commandLineFlags,
  parseFlags,
  registerCollector,
} from "./exporter_flags.ts";
import { FlagSet } from "./flags.ts";

/** A collector of one gauge, named `name`. */
function named(name: string): Collector {
  const d = newDesc(`${name.replace(/\W/g, "_")}_up`, "Up.");
  return { name, describe: (ch) => ch(d), collect: () => {} };
}

const setEnv: string[] = [];
afterEach(() => {
  for (const k of setEnv.splice(0)) delete process.env[k];
});

describe("parseFlags with an exporter's own flags, identity and collectors", () => {
  test("own flags read typed, from the command line and from the identity's variables", async () => {
    const own = new FlagSet();
    const url = own.url("upstream.url", { help: "URL.", required: true });
    const retries = own.int("upstream.retries", { help: "Retries.", default: 1 });
    process.env.OWN_TEST_UPSTREAM_RETRIES = "4";
    setEnv.push("OWN_TEST_UPSTREAM_RETRIES");
    const flags = await parseFlags({
      args: ["--upstream.url=http://127.0.0.1:9/s", "--web.listen-address=127.0.0.1:0"],
      registry: new Registry(),
      flagSet: own,
      collectors: [],
      identity: { name: "own_test" },
    });
    expect([url().href, retries()]).toEqual(["http://127.0.0.1:9/s", 4]);
    expect(flags.identity).toEqual({
      name: "own_test",
      version: flags.identity!.version,
      revision: flags.identity!.revision,
      envPrefix: "OWN_TEST_",
      namespace: "own_test",
    });
    expect(flags.handlerOpts.namespace).toBe("own_test");
    expect(flags.listenAddresses).toEqual(["127.0.0.1:0"]);
  });

  test("collectors of registerCollector are made after parsing, only when enabled, with a logger naming them", async () => {
    const made: string[] = [];
    const lines: string[] = [];
    const factory = (name: string) => ({ logger }: CollectorContext) => {
      made.push(name);
      logger.info("made");
      return named(name);
    };
    const collectors: CollectorFactory[] = [
      { name: "alpha", defaultEnabled: true, factory: factory("alpha") },
      { name: "beta", defaultEnabled: true, factory: factory("beta") },
      { name: "gamma", defaultEnabled: false, factory: factory("gamma") },
      { name: "delta", defaultEnabled: false, factory: factory("delta") },
    ];
    const registry = new Registry();
    const write = console.error;
    console.error = (l: string) => lines.push(l);
    try {
      await parseFlags({
        args: ["--no-collector.beta", "--collector.delta"],
        registry,
        flagSet: new FlagSet(),
        collectors,
      });
    } finally {
      console.error = write;
    }
    expect(made).toEqual(["alpha", "delta"]);
    expect(registry.collectors().map((c) => c.name)).toEqual(["alpha", "delta"]);
    expect(lines.filter((l) => l.includes("msg=made")).map((l) => l.replace(/^ts=\S+ /, ""))).toEqual([
      "level=info msg=made collector=alpha",
      "level=info msg=made collector=delta",
    ]);
    const defs = commandLineFlags({ registry: new Registry(), flagSet: new FlagSet(), collectors });
    expect(defs.filter((d) => d.name.startsWith("collector.")).map((d) => [d.name, d.default])).toEqual([
      ["collector.alpha", true],
      ["collector.beta", true],
      ["collector.gamma", false],
      ["collector.delta", false],
    ]);
  });

  test("program errors throw rather than exit: a factory's collector of another name; two collectors of one name; an own flag with a kit flag's name", async () => {
    const collectors: CollectorFactory[] = [{ name: "alpha", defaultEnabled: true, factory: () => named("beta") }];
    await expect(parseFlags({ args: [], registry: new Registry(), flagSet: new FlagSet(), collectors })).rejects
      .toThrow(
        'registerCollector("alpha"): its factory made a collector named "beta"',
      );
    const registry = new Registry();
    registry.register(named("alpha"));
    await expect(
      parseFlags({
        args: [],
        registry,
        flagSet: new FlagSet(),
        collectors: [{ name: "alpha", defaultEnabled: true, factory: () => named("alpha") }],
      }),
    )
      .rejects.toThrow('two collectors named "alpha": one registered with the registry, one with registerCollector');
    const own = new FlagSet();
    own.string("web.telemetry-path", { help: "Mine." });
    await expect(parseFlags({ args: [], registry: new Registry(), flagSet: own, collectors: [] })).rejects.toThrow(
      "flag --web.telemetry-path is defined twice",
    );
  });
});

describe("registerCollector", () => {
  test("refuses a name that cannot be a flag, and a name given twice", () => {
    expect(() => registerCollector("a b", () => named("x"))).toThrow(
      'registerCollector: "a b" is not a collector name',
    );
    registerCollector("exporter_flags_test_once", () => named("exporter_flags_test_once"), { defaultEnabled: false });
    expect(() => registerCollector("exporter_flags_test_once", () => named("exporter_flags_test_once"))).toThrow(
      'registerCollector: two collectors named "exporter_flags_test_once"',
    );
    expect(commandLineFlags({ registry: new Registry(), flagSet: new FlagSet() }).map((d) => d.name)).toContain(
      "collector.exporter_flags_test_once",
    );
  });
});
