// client_golang's push package: pushes what collectors and gatherers hold to a
// Pushgateway, for jobs that end before Prometheus could scrape them.
import type { Collector } from "../prometheus/collector.ts";
import type { Desc } from "../prometheus/desc.ts";
import { contentTypes, encodeBytes, type Format } from "../prometheus/expfmt.ts";
import { Gatherers } from "../prometheus/gatherers.ts";
import { type Gatherer, Registry } from "../prometheus/registry.ts";

/** A `fetch`-shaped function: the global `fetch`, or one with a proxy, TLS or a timeout of your own. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** A label name as the Pushgateway accepts it (the exposition's grammar). */
const labelNameRe = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** How a grouping value containing `/` (or an empty one) is put in the URL, as the Pushgateway reads it. */
const base64Suffix = "@base64";

/** Base64url without padding of the UTF-8 bytes of `s`, as Go's `base64.RawURLEncoding`. */
function base64url(s: string): string {
  return base64(new TextEncoder().encode(s)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function base64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** One path segment pair: `name/value`, or `name@base64/…` when the value has a `/` or is empty. */
function component(name: string, value: string): string {
  if (value === "") return `${name}${base64Suffix}/=`;
  if (value.includes("/")) return `${name}${base64Suffix}/${base64url(value)}`;
  // Path escaping (a space is %20): Go's QueryEscape would write "+", which a path keeps.
  return `${name}/${encodeURIComponent(value)}`;
}

/**
 * Pushes metrics to a Pushgateway, as Go's `push.Pusher`: set it up with the chained
 * methods, then `push()` (replace the group's metrics), `add()` (replace only the
 * families pushed) or `delete()` (remove the group). Setup mistakes (a bad grouping
 * name, a collector that cannot be registered) are kept and returned by the next
 * `push`, `add` or `delete`, as in Go.
 *
 * @example
 * ```ts
 * const pusher = newPusher("http://pushgateway:9091", "db_backup").grouping("db", "customers").collector(completion);
 * await pusher.add();
 * ```
 */
export class Pusher {
  readonly #url: string;
  readonly #job: string;
  readonly #grouping = new Map<string, string>();
  readonly #registry = new Registry();
  readonly #gatherers: Gatherer[] = [this.#registry];
  #error: Error | undefined;
  #client: FetchLike = (input, init) => fetch(input, init);
  #auth: string | undefined;
  #format: Format = "protobuf";

  /** A Pusher for `job` at `url`; use {@linkcode newPusher}. */
  constructor(url: string, job: string) {
    if (job === "") this.#error = new Error("job name is empty");
    if (!url.includes("://")) url = "http://" + url;
    this.#url = url.replace(/\/+$/, "");
    this.#job = job;
  }

  /** Adds a collector to push (registered in the Pusher's own registry), as Go's `Collector`. */
  collector(c: Collector): this {
    if (this.#error === undefined) {
      try {
        this.#registry.register(c);
      } catch (e) {
        this.#error = e as Error;
      }
    }
    return this;
  }

  /** Adds a gatherer (a Registry, say) whose metrics are pushed too, as Go's `Gatherer`. */
  gatherer(g: Gatherer): this {
    this.#gatherers.push(g);
    return this;
  }

  /**
   * Adds a grouping label: the group pushed to is the job and these labels, each a
   * part of the URL, as Go's `Grouping`. A value with `/` is base64url-encoded with
   * the `@base64` suffix on the name. An invalid name is an error at the next push.
   */
  grouping(name: string, value: string): this {
    if (this.#error === undefined) {
      if (!labelNameRe.test(name)) this.#error = new Error(`grouping label has invalid name: ${name}`);
      else this.#grouping.set(name, value);
    }
    return this;
  }

  /** Sends these credentials with basic authentication, as Go's `BasicAuth`. */
  basicAuth(username: string, password: string): this {
    this.#auth = "Basic " + base64(new TextEncoder().encode(`${username}:${password}`));
    return this;
  }

  /** Sends requests with `client` instead of the global `fetch`, as Go's `Client`. */
  client(client: FetchLike): this {
    this.#client = client;
    return this;
  }

  /**
   * The exposition format pushed, as Go's `Format`: `"protobuf"` (delimited, the
   * default, as Go's), `"text"` or an OpenMetrics version.
   */
  format(format: Format): this {
    this.#format = format;
    return this;
  }

  /** The setup error the next push would return, if any, as Go's `Error`. */
  error(): Error | undefined {
    return this.#error;
  }

  /** The URL of the group: `<url>/metrics/job/<job>/<name>/<value>…`. */
  get groupURL(): string {
    const parts = [component("job", this.#job)];
    for (const [name, value] of this.#grouping) parts.push(component(name, value));
    return `${this.#url}/metrics/${parts.join("/")}`;
  }

  /**
   * Replaces every metric of the group with those gathered now (HTTP PUT), as Go's
   * `Push`. Rejects on a setup error, a gather error, a metric that has the `job`
   * label or a grouping label itself, the gateway being unreachable, or an answer
   * other than 200 or 202 (with its body).
   *
   * @example
   * ```ts
   * await newPusher("http://pushgateway:9091", "db_backup").collector(completionTime).grouping("db", "customers").push();
   * ```
   */
  push(signal?: AbortSignal): Promise<void> {
    return this.#push("PUT", signal);
  }

  /**
   * Replaces only the families gathered now in the group (HTTP POST), leaving its
   * other families, as Go's `Add`. Rejects as {@linkcode Pusher.push}.
   *
   * @example
   * ```ts
   * await newPusher("http://pushgateway:9091", "db_backup").collector(lastSuccess).add();
   * ```
   */
  add(signal?: AbortSignal): Promise<void> {
    return this.#push("POST", signal);
  }

  /**
   * Deletes the group from the gateway (HTTP DELETE), as Go's `Delete`. Rejects on a
   * setup error, the gateway being unreachable, or an answer other than 202.
   *
   * @example
   * ```ts
   * await newPusher("http://pushgateway:9091", "db_backup").grouping("db", "customers").delete();
   * ```
   */
  async delete(signal?: AbortSignal): Promise<void> {
    if (this.#error) throw this.#error;
    const url = this.groupURL;
    const res = await this.#send(url, { method: "DELETE", headers: this.#headers(), signal }, "deleting");
    if (res.status !== 202) {
      throw new Error(`unexpected status code ${res.status} while deleting ${url}: ${await bodyText(res)}`);
    }
    await res.body?.cancel();
  }

  #headers(): Record<string, string> {
    return this.#auth ? { authorization: this.#auth } : {};
  }

  async #send(url: string, init: RequestInit, doing: string): Promise<Response> {
    try {
      return await this.#client(url, init);
    } catch (e) {
      throw new Error(`${doing} ${url} failed: ${(e as Error).message}`, { cause: e });
    }
  }

  async #push(method: "PUT" | "POST", signal: AbortSignal | undefined): Promise<void> {
    if (this.#error) throw this.#error;
    const gathered = await new Gatherers(this.#gatherers).gather({ signal });
    let body: Uint8Array<ArrayBuffer>;
    try {
      if (gathered.errors.length) {
        throw new Error(`gathering metrics to push failed: ${gathered.errors.map((e) => e.message).join("; ")}`);
      }
      for (const f of gathered.families) {
        // Series of one Desc have the same label names: check each Desc once.
        const descs = new Set<Desc>(f.metrics.map((m) => m.desc));
        for (const d of descs) {
          const names = [...Object.keys(d.constLabels), ...d.variableLabels];
          if (names.includes("job")) throw new Error(`pushed metric ${f.name} (${d}) already contains a job label`);
          const clash = names.find((n) => this.#grouping.has(n));
          if (clash !== undefined) {
            throw new Error(`pushed metric ${f.name} (${d}) already contains grouping label ${clash}`);
          }
        }
      }
      body = encodeBytes(gathered.families, this.#format) as Uint8Array<ArrayBuffer>;
    } finally {
      gathered.done();
    }
    const url = this.groupURL;
    const res = await this.#send(
      url,
      { method, body, headers: { ...this.#headers(), "content-type": contentTypes[this.#format] }, signal },
      "pushing to",
    );
    if (res.status !== 200 && res.status !== 202) {
      throw new Error(`unexpected status code ${res.status} while pushing to ${url}: ${await bodyText(res)}`);
    }
    await res.body?.cancel();
  }
}

async function bodyText(res: Response): Promise<string> {
  try {
    return (await res.text()).trim();
  } catch {
    return "";
  }
}

/**
 * Returns a Pusher of `job` to the Pushgateway at `url` (`http://` assumed when no
 * scheme is given), as Go's `push.New`.
 *
 * @example
 * ```ts
 * const completion = newGauge({ name: "db_backup_last_completion_timestamp_seconds", help: "Last completed backup." });
 * completion.setToCurrentTime();
 * await newPusher("http://pushgateway:9091", "db_backup").collector(completion).grouping("db", "customers").push();
 * ```
 */
export function newPusher(url: string, job: string): Pusher {
  return new Pusher(url, job);
}
