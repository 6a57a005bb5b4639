// HTTP and concurrency plumbing for the tests of promhttp/ and web/: servers on a
// loopback port the system picks, raw requests that show the bytes on the wire,
// promises the test resolves, and collectors that count, block, throw or hang.
// Everything here runs on Bun and on Deno; every wait has a deadline.
import { Buffer } from "node:buffer";
import { request } from "node:http";
import { connect } from "node:net";
import type { Collector } from "../prometheus/collector.ts";
import { type Desc, newDesc } from "../prometheus/desc.ts";
import { Registry } from "../prometheus/registry.ts";
import { GaugeValue, type Metric, mustNewConstMetric } from "../prometheus/value.ts";
import { adapter, type Listener } from "../web/adapter.ts";

/** A promise with its resolve function, for the test to settle when it chooses. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

/** Returns a {@linkcode Deferred}. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Rejects, naming `what`, when `p` has not settled within `ms`. */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** fetch with a 5 s bound, so that no request can hang a test. */
export function get(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(5_000) });
}

/** The Accept header Prometheus 2.x sends on every scrape. */
export const PROMETHEUS_ACCEPT =
  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/** A server on 127.0.0.1 and the port the system picked for it. */
export interface TestServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly base: string;
  readonly errors: unknown[];
}

/**
 * Servers started by a suite, stopped together in its `afterAll`. Each listens on
 * port 0 through the runtime's adapter, as `listenAndServe` does.
 */
export class Servers {
  #listeners: Listener[] = [];

  /** Serves `handler` on 127.0.0.1, on a port the system picks. */
  async serve(handler: (req: Request) => Promise<Response> | Response): Promise<TestServer> {
    const errors: unknown[] = [];
    const l = await (await adapter()).listen({
      hostname: "127.0.0.1",
      port: 0,
      handler,
      onError: (e) => errors.push(e),
    });
    this.#listeners.push(l);
    return { port: l.port, base: `http://127.0.0.1:${l.port}`, errors };
  }

  /** Stops every server, waiting at most 5 s for in-flight requests. */
  async stopAll(): Promise<void> {
    const ls = this.#listeners.splice(0);
    await within(5000, "stopping test servers", Promise.all(ls.map((l) => l.stop())));
  }
}

/** A response as it came over the wire: no decompression, headers lower-cased. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Uint8Array;
  readonly text: string;
}

/** What {@linkcode rawRequest} sends. */
export interface RawRequest {
  readonly method?: string;
  /** The request target exactly as sent: not normalised, not re-encoded. */
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Deadline for the whole exchange; 10 s by default. */
  readonly timeoutMs?: number;
}

/**
 * Sends one request with node:http, which on Bun and Deno alike leaves the body
 * compressed and the path as given (fetch would decompress and normalise).
 */
export function rawRequest(port: number, r: RawRequest): Promise<RawResponse> {
  const timeoutMs = r.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`${r.method ?? "GET"} ${r.path.slice(0, 80)}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const req = request(
      { host: "127.0.0.1", port, method: r.method ?? "GET", path: r.path, headers: r.headers ?? {}, agent: false },
      (res) => {
        const chunks: Uint8Array[] = [];
        res.on("data", (c: Uint8Array) => chunks.push(c));
        res.on("end", () => {
          clearTimeout(timer);
          // A plain Uint8Array, not a Buffer, so that tests compare bodies by content.
          const body = new Uint8Array(Buffer.concat(chunks));
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: new TextDecoder().decode(body) });
        });
        res.on("error", (e) => {
          clearTimeout(timer);
          reject(e);
        });
      },
    );
    req.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(r.body);
  });
}

/**
 * Resolves "refused" when a TCP connection to 127.0.0.1:`port` is refused, "reset"
 * when it is reset (accepted by the kernel while the listener was closing), and
 * "accepted" when it is accepted (within 2 s).
 */
export function tryConnect(port: number): Promise<"refused" | "reset" | "accepted"> {
  return within(
    2000,
    `connecting to port ${port}`,
    new Promise((resolve, reject) => {
      const s = connect(port, "127.0.0.1");
      s.on("connect", () => {
        s.destroy();
        resolve("accepted");
      });
      s.on("error", (e: Error & { code?: string }) => {
        if (e.code === "ECONNREFUSED") resolve("refused");
        else if (e.code === "ECONNRESET") resolve("reset");
        else reject(e);
      });
    }),
  );
}

/**
 * Resolves once a connection to 127.0.0.1:`port` is refused, trying again at once
 * while connections are still accepted, for at most `ms`. A server stops accepting a
 * moment after it is told to (Bun closes its listening socket on a later turn of
 * its event loop), so "refused after shutdown began" can only be checked this way;
 * returns how many connections were still accepted (or reset).
 */
export async function refusedWithin(port: number, ms = 2000): Promise<number> {
  const end = performance.now() + ms;
  let accepted = 0;
  while (performance.now() < end) {
    if ((await tryConnect(port)) === "refused") return accepted;
    accepted++;
  }
  throw new Error(`port ${port} still accepted connections ${ms} ms later (${accepted} accepted)`);
}

/** The series lines of a text exposition, comments and blank lines left out. */
export function seriesLines(body: string): string[] {
  return body.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
}

/** The series of a text exposition without their values: name and labels. */
export function seriesIdentities(body: string): string[] {
  return seriesLines(body).map((l) => l.slice(0, l.lastIndexOf(" ")));
}

/**
 * The value of the series written exactly as `series` (name and labels as the text
 * encoder writes them), or undefined when it is not in `body`.
 */
export function sampleValue(body: string, series: string): number | undefined {
  const line = seriesLines(body).find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The metric families named in `# TYPE` lines of a text exposition. */
export function familyNames(body: string): string[] {
  return body.split("\n").filter((l) => l.startsWith("# TYPE ")).map((l) => l.split(" ")[2]);
}

/** A collector with one gauge, `<metric> 1`, that counts its calls. */
export class CountingCollector implements Collector {
  calls = 0;
  readonly #desc: Desc;
  constructor(readonly name: string, metric = `${name}_value`, readonly timeoutMs?: number) {
    this.#desc = newDesc(metric, `A gauge of collector ${name}.`);
  }
  describe(ch: (d: Desc) => void): void {
    ch(this.#desc);
  }
  collect(ch: (m: Metric) => void): void {
    this.calls++;
    ch(mustNewConstMetric(this.#desc, GaugeValue, 1));
  }
}

/**
 * client_golang's blockingCollector: `collect` counts the call, records its signal,
 * resolves `started` and waits until the test calls `release()`; then it sends
 * `<metric> 1`.
 */
export class BlockingCollector implements Collector {
  calls = 0;
  readonly signals: AbortSignal[] = [];
  readonly started: Deferred<void> = deferred();
  readonly #release: Deferred<void> = deferred();
  readonly #desc: Desc;
  constructor(readonly name: string, metric = `${name}_value`) {
    this.#desc = newDesc(metric, `A gauge of collector ${name}.`);
  }
  describe(ch: (d: Desc) => void): void {
    ch(this.#desc);
  }
  async collect(ch: (m: Metric) => void, signal: AbortSignal): Promise<void> {
    this.calls++;
    this.signals.push(signal);
    this.started.resolve();
    await this.#release.promise;
    ch(mustNewConstMetric(this.#desc, GaugeValue, 1));
  }
  release(): void {
    this.#release.resolve();
  }
}

/** How a {@linkcode FailingCollector} fails. */
export type Failure = "throws" | "rejects" | "hangs";

/**
 * A collector that fails as told: throws synchronously, rejects, or returns a
 * promise that never settles (it only records the abort of its signal).
 */
export class FailingCollector implements Collector {
  calls = 0;
  readonly signals: AbortSignal[] = [];
  /** Resolves when the signal of the first call aborts. */
  readonly aborted: Deferred<void> = deferred();
  readonly #desc: Desc;
  constructor(readonly name: string, readonly how: Failure, readonly timeoutMs?: number) {
    this.#desc = newDesc(`${name}_value`, `A gauge of collector ${name}.`);
  }
  describe(ch: (d: Desc) => void): void {
    ch(this.#desc);
  }
  collect(ch: (m: Metric) => void, signal: AbortSignal): void | Promise<void> {
    this.calls++;
    this.signals.push(signal);
    signal.addEventListener("abort", () => this.aborted.resolve(), { once: true });
    // Sent first, to show that what a failing collector sent is discarded.
    ch(mustNewConstMetric(this.#desc, GaugeValue, 1));
    if (this.how === "throws") throw new Error(`${this.name} exploded`);
    if (this.how === "rejects") return Promise.reject(new Error(`${this.name} was rejected`));
    return new Promise<void>(() => {});
  }
}

/** A registry holding `collectors` and nothing else, so that bodies are deterministic. */
export function registryWith(...collectors: Collector[]): Registry {
  const r = new Registry();
  r.mustRegister(...collectors);
  return r;
}

/** mulberry32: a small seeded PRNG, so that a random test replays exactly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
