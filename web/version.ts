import { type Collector, markExporterMetrics } from "../prometheus/collector.ts";
import { newDesc } from "../prometheus/desc.ts";
import { runtimeInfo } from "../prometheus/runtime_collector.ts";
import { GaugeValue, type Metric, mustNewConstMetric } from "../prometheus/value.ts";

declare const BUILD_VERSION: string | undefined;
declare const BUILD_REVISION: string | undefined;

/**
 * Who the exporter is: the one setting that usage text, `--version`,
 * `<namespace>_build_info`, `<namespace>_scrape_collector_*`, the `<envPrefix>*`
 * environment variables, the landing page's title and the start-up log line follow.
 */
export interface Identity {
  /** The program's name, as in `usage: NAME [<flags>]` and `NAME, version …`. */
  readonly name: string;
  /** Its version, as `--version` and `<namespace>_build_info{version}` say. */
  readonly version: string;
  /** The source revision it was built from; "unknown" when run from source. */
  readonly revision: string;
  /** Prefix of the environment variable of every flag: `EXPORTER_` → `EXPORTER_WEB_LISTEN_ADDRESS`. */
  readonly envPrefix: string;
  /** Prefix of the exporter's own families: `<namespace>_build_info`, `<namespace>_scrape_collector_*`. */
  readonly namespace: string;
}

/**
 * The program's name, version and source revision. `make build` sets the version and
 * revision with `bun build --define BUILD_VERSION=… --define BUILD_REVISION=…`;
 * `bun run` and `deno run` report the version from here and the revision "unknown".
 */
export const program = {
  name: "exporter",
  version: typeof BUILD_VERSION === "string" ? BUILD_VERSION : "0.1.0",
  revision: typeof BUILD_REVISION === "string" ? BUILD_REVISION : "unknown",
};

/** The tutorial exporter's identity: `exporter`, `EXPORTER_*` variables, `ts_exporter_*` families. */
export const defaultIdentity: Identity = { ...program, envPrefix: "EXPORTER_", namespace: "ts_exporter" };

/**
 * Completes an identity: without `name`, the tutorial's ({@linkcode defaultIdentity});
 * with one, the environment prefix and namespace follow the name (`upstream_exporter`
 * → `UPSTREAM_EXPORTER_`, `upstream_exporter_build_info`) unless given. The version and
 * revision default to the ones `bun build --define BUILD_VERSION/BUILD_REVISION`
 * stamped, else "0.1.0" and "unknown".
 *
 * @example
 * ```ts
 * newIdentity({ name: "upstream_exporter", version: "1.2.0" }).envPrefix; // "UPSTREAM_EXPORTER_"
 * ```
 */
export function newIdentity(o: Partial<Identity> = {}): Identity {
  if (o.name === undefined) return { ...defaultIdentity, ...o };
  if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(o.name)) {
    throw new Error(
      `identity: program name ${
        JSON.stringify(o.name)
      } must start with a letter and hold only letters, digits, "_", "." or "-"`,
    );
  }
  const word = o.name.replace(/[^A-Za-z0-9_]/g, "_");
  const id: Identity = {
    name: o.name,
    version: o.version ?? program.version,
    revision: o.revision ?? program.revision,
    envPrefix: o.envPrefix ?? word.toUpperCase() + "_",
    namespace: o.namespace ?? word.toLowerCase(),
  };
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(id.namespace)) {
    throw new Error(`identity: namespace ${JSON.stringify(id.namespace)} is not a valid metric name prefix`);
  }
  return id;
}

/**
 * Returns the `<namespace>_build_info` collector, as exporter-toolkit's version
 * collector, labelled with `identity`'s version and revision (the tutorial's by default).
 */
export function newBuildInfoCollector(namespace: string, identity: Identity = defaultIdentity): Collector {
  const { runtime, version: runtimeVersion } = runtimeInfo();
  const desc = newDesc(
    `${namespace}_build_info`,
    `A metric with a constant '1' value labeled by version, revision, runtime and runtime_version from which ${identity.name} was built.`,
    null,
    { version: identity.version, revision: identity.revision, runtime, runtime_version: runtimeVersion },
  );
  return markExporterMetrics({
    name: "build_info",
    describe: (ch) => ch(desc),
    collect: (ch: (m: Metric) => void) => ch(mustNewConstMetric(desc, GaugeValue, 1)),
  });
}
