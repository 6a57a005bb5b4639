import { markExporterMetrics, type Collector } from "../prometheus/collector.ts";
import { newDesc } from "../prometheus/desc.ts";
import { runtimeInfo } from "../prometheus/runtime_collector.ts";
import { GaugeValue, type Metric, mustNewConstMetric } from "../prometheus/value.ts";

declare const BUILD_VERSION: string | undefined;
declare const BUILD_REVISION: string | undefined;

/**
 * The program's name, version and source revision. `make build` sets the version and
 * revision with `bun build --define`; `bun run` and `deno run` report the version
 * from here and the revision "unknown".
 */
export const program = {
  name: "exporter",
  version: typeof BUILD_VERSION === "string" ? BUILD_VERSION : "0.1.0",
  revision: typeof BUILD_REVISION === "string" ? BUILD_REVISION : "unknown",
};

/** Returns the `<namespace>_build_info` collector, as exporter-toolkit's version collector. */
export function newBuildInfoCollector(namespace: string): Collector {
  const { runtime, version: runtimeVersion } = runtimeInfo();
  const desc = newDesc(
    `${namespace}_build_info`,
    `A metric with a constant '1' value labeled by version, revision, runtime and runtime_version from which ${program.name} was built.`,
    null,
    { version: program.version, revision: program.revision, runtime, runtime_version: runtimeVersion },
  );
  return markExporterMetrics({
    name: "build_info",
    describe: (ch) => ch(desc),
    collect: (ch: (m: Metric) => void) => ch(mustNewConstMetric(desc, GaugeValue, 1)),
  });
}
