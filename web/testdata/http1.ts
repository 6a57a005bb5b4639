// What the tests of the kit's HTTP/1.1 server over in-memory connections share
// (web/_http1_test.ts, web/_http1_bun_test.ts).
import { waitFor } from "../../testing/process.ts";
import type { Http1Options } from "../_http1.ts";

/** Polls `f` every 5 ms until it holds; fails naming `what` after `ms`. */
export function until(what: string, f: () => boolean, ms = 2_000): Promise<void> {
  return waitFor(what, () => Promise.resolve(f()), { timeoutMs: ms, pollMs: 5 }).then(() => {});
}

/** Options with every bound off, errors pushed to `errors`, `opts` over them. */
export function http1Options(
  handler: Http1Options["handler"],
  errors: unknown[],
  opts: Partial<Http1Options> = {},
): Http1Options {
  return {
    handler,
    onError: (e) => errors.push(e),
    scheme: "http",
    authority: "127.0.0.1:9100",
    readHeaderTimeoutMs: 0,
    idleTimeoutMs: 0,
    writeTimeoutMs: 0,
    maxConnections: 0,
    ...opts,
  };
}
