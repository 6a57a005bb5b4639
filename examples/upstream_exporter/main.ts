// upstream_exporter: exports an upstream's JSON status document, on the kit.
import { handler } from "@ts-exporter-kit/kit/promhttp";
import { listenAndServe, parseFlags } from "@ts-exporter-kit/kit/web";
import { identity } from "./flags.ts";

const flags = await parseFlags({ identity }); // --upstream.url, --web.listen-address=:8080, --collector.upstream, …
await listenAndServe(flags, handler(flags.handlerOpts));
