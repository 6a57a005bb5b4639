// The exporter's identity, its own flags and its collector, as a Go exporter declares
// them at package level (`var upstreamURL = kingpin.Flag(…).Required().String()`).
// main.ts parses them; the README's flag table is generated from them too.
import { flag, registerCollector } from "@ts-exporter-kit/kit/web";
import { UpstreamCollector } from "./collector.ts";
import pkg from "./package.json" with { type: "json" };

/**
 * Who this exporter is: `usage: upstream_exporter`, `UPSTREAM_EXPORTER_*` variables,
 * `upstream_exporter_build_info`; its version is package.json's, its revision what
 * `make build` stamps (`--define BUILD_REVISION`), else "unknown".
 */
export const identity = { name: "upstream_exporter", version: pkg.version } as const;

export const upstreamURL = flag.url("upstream.url", {
  help: "URL of the upstream's JSON status document.",
  required: true,
});

export const upstreamTimeout = flag.duration("upstream.timeout", {
  help: "Deadline for reading the document, within the scrape's own.",
  default: "5s",
});

// Made once the flags are parsed, with the logger of --log.level and --log.format.
registerCollector("upstream", ({ logger }) => new UpstreamCollector(upstreamURL().href, upstreamTimeout(), logger));
