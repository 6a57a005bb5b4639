// HTTP basic authentication against bcrypt hashes, as exporter-toolkit's webHandler,
// with its fixes: the cache key covers user, hash and password (CVE-2022-46146), and
// unknown users cost a bcrypt comparison too.

/** Checks `password` against a bcrypt `hash`; resolves false (never rejects) on mismatch. */
export type VerifyFn = (password: string, hash: string) => Promise<boolean>;

/**
 * bcrypt for the runtime: `Bun.password.verify` on Bun (native, off the main thread);
 * on Deno, which has no bcrypt of its own, bcryptjs, pure JavaScript without
 * dependencies (the native `bcrypt` package needs a Node addon), run in `workers`
 * Web Workers: on the main thread each comparison blocked the event loop, and
 * /-/healthy took 3–4 s during a login flood. Loaded on first use.
 */
export async function runtimeVerify(workers = 2): Promise<VerifyFn> {
  const bun =
    (globalThis as { Bun?: { password: { verify(p: string, h: string, a: "bcrypt"): Promise<boolean> } } }).Bun;
  if (bun) return (p, h) => bun.password.verify(p, h, "bcrypt").catch(() => false);
  if (!("Deno" in globalThis)) {
    // Node (web/_serve_node.ts): bcryptjs on the main thread, as before workers.
    const { default: bcrypt } = await import("bcryptjs");
    return (p, h) => bcrypt.compare(p, h).catch(() => false);
  }
  // One pool per process: reloads and every BasicAuth share it.
  const pool = workerPool ??= workerVerify(workers);
  pool.catch(() => workerPool = undefined);
  return pool;
}
let workerPool: Promise<VerifyFn> | undefined;

/**
 * Comparisons spread over `n` workers running web/_bcrypt_worker.ts, round-robin.
 * Resolves once every worker has answered a probe comparison, so that a worker that
 * cannot start (under `deno run`, loading its module needs
 * `--allow-read=web/_bcrypt_worker.ts`) stops the exporter at start with the reason,
 * instead of refusing every login later. A worker that fails afterwards rejects what
 * it held (a refused login) and is started again on its next use.
 */
async function workerVerify(n: number): Promise<VerifyFn> {
  type Slot = {
    w: Worker;
    pending: Map<number, { resolve(ok: boolean): void; reject(e: Error): void }>;
    failed: boolean;
  };
  let id = 0, next = 0;
  // The worker beside this module, with its extension: .ts in a checkout, .js in the
  // npm package's dist/.
  const workerURL = new URL(`./_bcrypt_worker.${import.meta.url.endsWith(".js") ? "js" : "ts"}`, import.meta.url);
  const start = (): Slot => {
    const slot: Slot = {
      w: new Worker(workerURL, { type: "module" }),
      pending: new Map(),
      failed: false,
    };
    slot.w.onmessage = (e: MessageEvent<{ id: number; ok: boolean }>) => {
      slot.pending.get(e.data.id)?.resolve(e.data.ok === true);
      slot.pending.delete(e.data.id);
    };
    slot.w.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      slot.failed = true;
      slot.w.terminate();
      const err = new Error(`bcrypt worker failed: ${e.message}`);
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
    };
    return slot;
  };
  const pool = Array.from({ length: n }, start);
  const on = (i: number, password: string, hash: string) => {
    if (pool[i].failed) pool[i] = start();
    const slot = pool[i];
    return new Promise<boolean>((resolve, reject) => {
      const m = id++;
      slot.pending.set(m, { resolve, reject });
      slot.w.postMessage({ id: m, password, hash });
    });
  };
  try {
    await Promise.all(pool.map((_, i) => on(i, "probe", dummyAtCost(4))));
  } catch (e) {
    for (const s of pool) s.w.terminate();
    throw new Error(
      `${(e as Error).message} (under deno run, grant --allow-read=${
        workerURL.protocol === "file:" ? decodeURIComponent(workerURL.pathname) : workerURL.href
      }, as the README says)`,
    );
  }
  return (password, hash) => on(next++ % pool.length, password, hash).catch(() => false);
}

/**
 * exporter-toolkit's fixed hash (of "fakepassword", cost 10), compared against when
 * the user is unknown: "Use a fixed password hash to prevent user enumeration by
 * timing requests." {@linkcode dummyAtCost} rewrites its cost to the configured
 * users' cost.
 */
export const dummyHash = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

/**
 * The dummy hash with its cost set to `cost`. A comparison against it costs exactly
 * what one against a real hash of that cost does (bcrypt's work depends on the cost
 * field only); which password it would accept does not matter, as an unknown user is
 * refused whatever the comparison says.
 */
export function dummyAtCost(cost: number): string {
  return dummyHash.replace(/^\$2y\$\d\d\$/, `$2y$${String(cost).padStart(2, "0")}$`);
}

/** The cost field of a bcrypt hash; 10 when it has none that can be read. */
export function bcryptCost(hash: string): number {
  const m = hash.match(/^\$2[aby]?\$(\d\d)\$/);
  return m ? Number(m[1]) : 10;
}

/** bcrypt reads 72 bytes; longer passwords are refused rather than truncated differently per library. */
const maxPasswordBytes = 72;

/** Options for {@linkcode BasicAuth}; every field but `verify` has a default. */
export interface BasicAuthOptions {
  /** bcrypt: {@linkcode runtimeVerify}'s, or a stand-in in tests. */
  readonly verify: VerifyFn;
  /**
   * Successful logins kept (least recently used dropped first); 100. Failures are never
   * cached, so no number of failed logins can push a working credential out.
   */
  readonly cacheSize?: number;
  /** bcrypt comparisons run at once; 2. Bounds the CPU a flood of bad logins takes. */
  readonly concurrency?: number;
  /**
   * Logins that may wait for a comparison slot; 16. One more is answered "busy" (429)
   * at once instead of joining an unbounded backlog that would delay everyone.
   */
  readonly maxWaiting?: number;
}

/** What {@linkcode BasicAuth.verdict} decided. */
export type Verdict = "ok" | "unauthorized" | "busy";

/**
 * SHA-256 of the parts, length-prefixed so that no two (user, hash, password) triples
 * give the same input: CVE-2022-46146 was a key built by plain concatenation. WebCrypto
 * is global on both runtimes; node:crypto is not imported because loading it costs
 * ~15 ms of Bun's start-up, and most exporters run without users.
 */
async function digest(...parts: string[]): Promise<Uint8Array> {
  const text = parts.map((p) => `${new TextEncoder().encode(p).length}:${p}`).join("");
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** Whether two digests are equal, looking at every byte whatever the first difference. */
function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/**
 * Basic authentication for a fixed set of users. Safe to call concurrently: equal
 * logins in flight share one bcrypt comparison, successes are cached under a digest of
 * user, hash and password (the password itself is not kept), at most `concurrency`
 * comparisons run at once and at most `maxWaiting` wait.
 *
 * Every failed login costs the same bcrypt work whichever user it names: an unknown
 * user is compared against a dummy of the highest configured cost, and a known user
 * whose hash has a lower cost gets dummy comparisons of costs c, c+1 … max-1 after a
 * mismatch (2^c + 2^c + … + 2^(max-1) = 2^max), all before the answer.
 */
export class BasicAuth {
  readonly #users: Promise<{ name: Uint8Array; hash: string }[]>;
  readonly #verify: VerifyFn;
  readonly #successes = new Map<string, true>();
  readonly #inFlight = new Map<string, Promise<boolean>>();
  readonly #cacheSize: number;
  readonly #maxCost: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  readonly #concurrency: number;
  readonly #maxWaiting: number;

  constructor(users: ReadonlyMap<string, string>, opts: BasicAuthOptions) {
    this.#users = Promise.all([...users].map(async ([name, hash]) => ({ name: await digest(name), hash })));
    this.#verify = opts.verify;
    this.#cacheSize = opts.cacheSize ?? 100;
    this.#concurrency = opts.concurrency ?? 2;
    this.#maxWaiting = opts.maxWaiting ?? 16;
    this.#maxCost = Math.max(4, ...[...users.values()].map(bcryptCost));
  }

  /** Whether the `Authorization` header names a known user with the right password ("busy" counts as no). */
  async check(authorization: string | null): Promise<boolean> {
    return (await this.verdict(authorization)) === "ok";
  }

  /**
   * "ok" for a known user with the right password; "unauthorized" otherwise; "busy"
   * when the comparison would have to wait behind `maxWaiting` others (answer 429).
   */
  async verdict(authorization: string | null): Promise<Verdict> {
    const creds = parseBasic(authorization);
    // Neither check depends on which users exist, so answering at once reveals nothing.
    if (!creds || new TextEncoder().encode(creds.password).length > maxPasswordBytes) return "unauthorized";
    // Every user is compared, in constant time, with no early exit: how long the
    // lookup takes says nothing about which user, if any, matched.
    const name = await digest(creds.user);
    let hash: string | undefined;
    for (const u of await this.#users) if (sameDigest(u.name, name)) hash = u.hash;
    const known = hash !== undefined;
    const h = hash ?? dummyAtCost(this.#maxCost);
    const key = hex(await digest(creds.user, h, creds.password));
    if (this.#successes.has(key)) {
      this.#successes.delete(key); // re-inserted: most recently used last
      this.#successes.set(key, true);
      return "ok";
    }
    let result = this.#inFlight.get(key);
    if (!result) {
      if (this.#running >= this.#concurrency && this.#waiting.length >= this.#maxWaiting) return "busy";
      result = this.#limited(() => this.#compare(creds.password, h, known));
      this.#inFlight.set(key, result);
      result.finally(() => this.#inFlight.delete(key));
    }
    // Awaited whoever asks: an unknown user's answer waits for its dummy comparison.
    const ok = await result;
    if (!ok) return "unauthorized";
    this.#successes.set(key, true);
    if (this.#successes.size > this.#cacheSize) this.#successes.delete(this.#successes.keys().next().value!);
    return "ok";
  }

  /** The comparison and, after a mismatch below the highest cost, the padding; false for an unknown user. */
  async #compare(password: string, hash: string, known: boolean): Promise<boolean> {
    const ok = await this.#verify(password, hash).catch(() => false);
    if (known && ok) return true;
    for (let c = bcryptCost(hash); c < this.#maxCost; c++) {
      await this.#verify(password, dummyAtCost(c)).catch(() => false);
    }
    return false;
  }

  async #limited<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#running >= this.#concurrency) await new Promise<void>((r) => this.#waiting.push(r));
    this.#running++;
    try {
      return await fn();
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }
}

/** Basic authentication for `users` with the runtime's bcrypt. */
export async function newBasicAuth(users: ReadonlyMap<string, string>): Promise<BasicAuth> {
  return new BasicAuth(users, { verify: await runtimeVerify() });
}

/** The user and password of a `Basic` Authorization header, or undefined when it is not one. */
export function parseBasic(header: string | null): { user: string; password: string } | undefined {
  const m = header?.match(/^basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i);
  if (!m) return undefined;
  let text: string;
  try {
    const bin = atob(m[1]);
    text = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
  const colon = text.indexOf(":");
  if (colon < 0) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** The answer when the bcrypt queue is full: try again in a second. */
export function busy(): Response {
  return new Response("Too Many Requests\n", {
    status: 429,
    headers: { "Retry-After": "1", "Content-Type": "text/plain; charset=utf-8" },
  });
}

/** The answer to a request without valid credentials. */
export function unauthorized(): Response {
  return new Response("Unauthorized\n", {
    status: 401,
    headers: {
      "WWW-Authenticate": 'Basic realm="exporter", charset="UTF-8"',
      "Content-Type": "text/plain; charset=utf-8",
    },
  });
}
