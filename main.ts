// The tutorial exporter: register fooCollector, serve /metrics.
import { newFooCollector } from "./collector.ts";
import { mustRegister } from "./prometheus/mod.ts";
import { handler } from "./promhttp/mod.ts";
import { listenAndServe, parseFlags } from "./web/mod.ts";

const flags = await parseFlags(); // --web.listen-address=:8080, --web.telemetry-path=/metrics, …
mustRegister(newFooCollector());
await listenAndServe(flags, handler(flags.handlerOpts));
