// The tutorial exporter: register fooCollector, serve /metrics.
import { newFooCollector } from "./collector.ts";
import { mustRegister } from "./prometheus/mod.ts";
import { handler } from "./promhttp/mod.ts";
import { listenAndServe, parseFlags } from "./web/mod.ts";

mustRegister(newFooCollector());
const flags = await parseFlags(); // --web.listen-address=:8080, --web.telemetry-path=/metrics, --collector.foo, …
await listenAndServe(flags, handler(flags.handlerOpts));
