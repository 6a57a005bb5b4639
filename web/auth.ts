// HTTP basic authentication against bcrypt hashes, as exporter-toolkit's webHandler,
// with its fixes: the cache key covers user, hash and password (CVE-2022-46146), and
// unknown users cost a bcrypt comparison too.

/** Checks `password` against a bcrypt `hash`; resolves false (never rejects) on mismatch. */
export type VerifyFn = (password: string, hash: string) => Promise<boolean>;

/**
 * bcrypt for the runtime: `Bun.password.verify` on Bun (native, off the main thread);
 * on Deno, which has no bcrypt of its own, bcryptjs, pure JavaScript without
 * dependencies (the native `bcrypt` package needs a Node addon). Imported on first use.
 */
export async function runtimeVerify(): Promise<VerifyFn> {
  const bun = (globalThis as { Bun?: { password: { verify(p: string, h: string, a: "bcrypt"): Promise<boolean> } } }).Bun;
  if (bun) return (p, h) => bun.password.verify(p, h, "bcrypt").catch(() => false);
  const { default: bcrypt } = await import("bcryptjs");
  return (p, h) => bcrypt.compare(p, h).catch(() => false);
}

/**
 * exporter-toolkit's fixed hash (of "fakepassword", cost 10), compared against when
 * the user is unknown: "Use a fixed password hash to prevent user enumeration by
 * timing requests."
 */
export const dummyHash = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

/** bcrypt reads 72 bytes; longer passwords are refused rather than truncated differently per library. */
const maxPasswordBytes = 72;

/** Options for {@linkcode BasicAuth}; every field has a default. */
export interface BasicAuthOptions {
  /** bcrypt: {@linkcode runtimeVerify}'s, or a stand-in in tests. */
  readonly verify: VerifyFn;
  /** Results kept, oldest dropped first; 100 as exporter-toolkit. */
  readonly cacheSize?: number;
  /** bcrypt comparisons run at once; more wait. Bounds the CPU a flood of bad logins takes. */
  readonly concurrency?: number;
  /** The hash unknown users are checked against; {@linkcode dummyHash} by default. */
  readonly dummyHash?: string;
}

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
 * requests in flight share one bcrypt comparison, results are cached under a digest
 * of user, hash and password (the password itself is not kept), and at most
 * `concurrency` comparisons run at once.
 */
export class BasicAuth {
  readonly #users: Promise<{ name: Uint8Array; hash: string }[]>;
  readonly #verify: VerifyFn;
  readonly #cache = new Map<string, Promise<boolean>>();
  readonly #cacheSize: number;
  readonly #dummy: string;
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  readonly #concurrency: number;

  constructor(users: ReadonlyMap<string, string>, opts: BasicAuthOptions) {
    this.#users = Promise.all([...users].map(async ([name, hash]) => ({ name: await digest(name), hash })));
    this.#verify = opts.verify;
    this.#cacheSize = opts.cacheSize ?? 100;
    this.#concurrency = opts.concurrency ?? 2;
    this.#dummy = opts.dummyHash ?? dummyHash;
  }

  /** Whether the `Authorization` header names a known user with the right password. */
  async check(authorization: string | null): Promise<boolean> {
    const creds = parseBasic(authorization);
    if (!creds) return false;
    // Every user is compared, in constant time, with no early exit: how long the
    // lookup takes says nothing about which user, if any, matched.
    const name = await digest(creds.user);
    let hash: string | undefined;
    for (const u of await this.#users) if (sameDigest(u.name, name)) hash = u.hash;
    const known = hash !== undefined;
    const h = hash ?? this.#dummy;
    if (new TextEncoder().encode(creds.password).length > maxPasswordBytes) return false;
    const key = hex(await digest(creds.user, h, creds.password));
    let result = this.#cache.get(key);
    if (!result) {
      // `known &&` before caching: a hit for an unknown user can never say yes.
      result = this.#limited(() => this.#verify(creds.password, h)).then((ok) => known && ok, () => false);
      this.#cache.set(key, result);
      if (this.#cache.size > this.#cacheSize) this.#cache.delete(this.#cache.keys().next().value!);
    }
    return known && await result;
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

/** The answer to a request without valid credentials. */
export function unauthorized(): Response {
  return new Response("Unauthorized\n", {
    status: 401,
    headers: { "WWW-Authenticate": 'Basic realm="exporter", charset="UTF-8"', "Content-Type": "text/plain; charset=utf-8" },
  });
}
