// The part of `bun:test` this project's tests use, on Deno.test, so that one set of
// test files runs under `bun test` and `deno test` (deno.json maps `bun:test` here).
// Hooks are supported inside describe() only, where the tests they wrap are known.
import { isDeepStrictEqual } from "node:util";

declare const Deno: {
  test(t: { name: string; fn: () => Promise<void>; sanitizeOps: boolean; sanitizeResources: boolean; ignore?: boolean }): void;
};

// As bun:test, a hook or test may resolve with anything; only a rejection fails it.
type Fn = () => unknown;
interface Suite {
  name: string;
  tests: { name: string; fn: Fn }[];
  beforeAll: Fn[];
  afterAll: Fn[];
  beforeEach: Fn[];
  afterEach: Fn[];
}

let current: Suite | undefined;

function register(name: string, fn: Fn): void {
  if (current) current.tests.push({ name, fn });
  else Deno.test({ name, fn: async () => void await fn(), sanitizeOps: false, sanitizeResources: false });
}

/** Groups tests; hooks declared inside apply to the tests declared inside. */
export function describe(name: string, body: () => void): void {
  const outer = current;
  const suite: Suite = { name: outer ? `${outer.name} > ${name}` : name, tests: [], beforeAll: [], afterAll: [], beforeEach: [], afterEach: [] };
  current = suite;
  try {
    body();
  } finally {
    current = outer;
  }
  const n = suite.tests.length;
  suite.tests.forEach((t, i) => {
    register(`${suite.name} > ${t.name}`, async () => {
      if (i === 0) for (const h of suite.beforeAll) await h();
      try {
        for (const h of suite.beforeEach) await h();
        try {
          await t.fn();
        } finally {
          for (const h of suite.afterEach) await h();
        }
      } finally {
        if (i === n - 1) for (const h of suite.afterAll) await h();
      }
    });
  });
}

function hook(kind: "beforeAll" | "afterAll" | "beforeEach" | "afterEach") {
  // The timeout argument is bun:test's; Deno.test has no per-hook timeout.
  return (fn: Fn, _timeoutMs?: number) => {
    if (!current) throw new Error(`${kind}() outside describe() is not supported by the Deno shim`);
    current[kind].push(fn);
  };
}
export const beforeAll = hook("beforeAll");
export const afterAll = hook("afterAll");
export const beforeEach = hook("beforeEach");
export const afterEach = hook("afterEach");

/** Declares a test; `timeout` is accepted for bun:test compatibility and ignored. */
export function test(name: string, fn: Fn, _timeout?: number): void {
  register(name, fn);
}
/** A skipped test: listed as ignored by `deno test`, as bun test lists it as skipped. */
test.skip = (name: string, fn: Fn) => {
  if (current) current.tests.push({ name: `${name} (skipped)`, fn: () => {} });
  else Deno.test({ name, fn: async () => void await fn(), ignore: true, sanitizeOps: false, sanitizeResources: false });
};
export const it = test;

function show(v: unknown): string {
  try {
    return typeof v === "string" ? JSON.stringify(v) : inspect(v);
  } catch {
    return String(v);
  }
}
function inspect(v: unknown): string {
  const d = (globalThis as { Deno?: { inspect(v: unknown): string } }).Deno;
  return d ? d.inspect(v) : String(v);
}

class Matchers {
  constructor(readonly actual: unknown, readonly negate = false) {}
  get not(): Matchers {
    return new Matchers(this.actual, !this.negate);
  }
  get rejects(): AsyncMatchers {
    return new AsyncMatchers(this.actual as Promise<unknown>, this.negate);
  }
  get resolves(): AsyncMatchers {
    return new AsyncMatchers(this.actual as Promise<unknown>, this.negate, true);
  }
  #check(ok: boolean, what: string): void {
    if (ok === this.negate) throw new Error(`expected ${show(this.actual)} ${this.negate ? "not " : ""}${what}`);
  }
  toBe(v: unknown) {
    this.#check(Object.is(this.actual, v), `to be ${show(v)}`);
  }
  toEqual(v: unknown) {
    this.#check(isDeepStrictEqual(this.actual, v), `to equal ${show(v)}`);
  }
  toStrictEqual(v: unknown) {
    this.toEqual(v);
  }
  toBeTruthy() {
    this.#check(!!this.actual, "to be truthy");
  }
  toBeFalsy() {
    this.#check(!this.actual, "to be falsy");
  }
  toBeUndefined() {
    this.#check(this.actual === undefined, "to be undefined");
  }
  toBeDefined() {
    this.#check(this.actual !== undefined, "to be defined");
  }
  toBeNull() {
    this.#check(this.actual === null, "to be null");
  }
  toBeNaN() {
    this.#check(Number.isNaN(this.actual), "to be NaN");
  }
  toBeGreaterThan(n: number) {
    this.#check((this.actual as number) > n, `to be > ${n}`);
  }
  toBeGreaterThanOrEqual(n: number) {
    this.#check((this.actual as number) >= n, `to be >= ${n}`);
  }
  toBeLessThan(n: number) {
    this.#check((this.actual as number) < n, `to be < ${n}`);
  }
  toBeLessThanOrEqual(n: number) {
    this.#check((this.actual as number) <= n, `to be <= ${n}`);
  }
  toBeInstanceOf(c: abstract new (...a: never[]) => unknown) {
    this.#check(this.actual instanceof c, `to be an instance of ${c.name}`);
  }
  toContain(v: unknown) {
    const a = this.actual as string | unknown[];
    this.#check(typeof a === "string" ? a.includes(v as string) : a.some((x) => Object.is(x, v)), `to contain ${show(v)}`);
  }
  toHaveLength(n: number) {
    this.#check((this.actual as { length: number }).length === n, `to have length ${n}`);
  }
  toMatch(re: RegExp | string) {
    const s = this.actual as string;
    this.#check(typeof re === "string" ? s.includes(re) : re.test(s), `to match ${re}`);
  }
  toThrow(expected?: string | RegExp | (new (...a: never[]) => Error)) {
    let thrown: unknown;
    let did = false;
    try {
      (this.actual as () => unknown)();
    } catch (e) {
      thrown = e;
      did = true;
    }
    this.#check(did && matchesError(thrown, expected), `to throw ${expected ?? ""} (threw ${did ? show(thrown) : "nothing"})`);
  }
}

function matchesError(e: unknown, expected?: string | RegExp | (new (...a: never[]) => Error)): boolean {
  if (expected === undefined) return true;
  const msg = e instanceof Error ? e.message : String(e);
  if (typeof expected === "string") return msg.includes(expected);
  if (expected instanceof RegExp) return expected.test(msg);
  return e instanceof expected;
}

class AsyncMatchers {
  constructor(readonly promise: Promise<unknown>, readonly negate: boolean, readonly resolves = false) {}
  async toThrow(expected?: string | RegExp | (new (...a: never[]) => Error)) {
    let did = false;
    let thrown: unknown;
    try {
      await this.promise;
    } catch (e) {
      did = true;
      thrown = e;
    }
    if ((did && matchesError(thrown, expected)) === this.negate) {
      throw new Error(`expected promise ${this.negate ? "not " : ""}to reject with ${expected ?? "an error"}`);
    }
  }
  async toEqual(v: unknown) {
    new Matchers(await this.promise, this.negate).toEqual(v);
  }
  async toBe(v: unknown) {
    new Matchers(await this.promise, this.negate).toBe(v);
  }
}

/** The bun:test `expect`, for the matchers above. */
export function expect(actual: unknown): Matchers {
  return new Matchers(actual);
}
