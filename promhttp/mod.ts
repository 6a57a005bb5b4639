/**
 * The HTTP side, mirroring client_golang's `promhttp`: `handler()` serves the default
 * registry and `handlerFor(registry, opts)` any registry, each as a web-standard
 * `(Request) => Promise<Response>`.
 *
 * @example
 * ```ts
 * import { handler } from "./promhttp/mod.ts";
 * Deno.serve({ port: 8080 }, handler());
 * ```
 * @module
 */
export {
  ContinueOnError,
  type ErrorHandling,
  type ErrorLog,
  type Handler,
  handler,
  handlerFor,
  type HandlerOpts,
  HTTPErrorOnError,
  instrumentMetricHandler,
} from "./handler.ts";
export { acceptsGzip, negotiate, type Negotiated } from "./negotiate.ts";
export {
  type InstrumentedHandler,
  instrumentHandlerCounter,
  instrumentHandlerDuration,
  instrumentHandlerInFlight,
  instrumentHandlerRequestSize,
  instrumentHandlerResponseSize,
  instrumentHandlerTimeToWriteHeader,
  type InstrumentOpts,
  type ObserverChild,
  type ObserverVec,
  type RequestHandler,
} from "./instrument_server.ts";
export {
  type FetchLike,
  instrumentFetchCounter,
  instrumentFetchDuration,
  instrumentFetchInFlight,
} from "./instrument_client.ts";
