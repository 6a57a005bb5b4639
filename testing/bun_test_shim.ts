// The part of `bun:test` that this project's tests and docs use, on Deno.test, so that
// one set of test files runs under `bun test` and `deno test` (deno.json maps
// `bun:test` here). As under bun:test:
// - a test times out after 5 s unless it passes its own timeout (a number, or
//   `{ timeout }`); a hook times out only when it is given one;
// - beforeAll runs before the first test of its describe() (or file) that runs, and
//   afterAll after the last, also when `deno test --filter` runs only some of them;
// - test.skip is reported as ignored, test.failing passes only when its body throws;
// - mock() records calls for toHaveBeenCalled and its relatives.
// The suites start servers and programs, read files and the environment: run them
// with `deno test -P=test` (deno.json's "test" permission set) or `make test-deno`.
// A plain `deno test` has none of those permissions (Deno grants nothing by default
// and refuses to apply a config's permissions without -P), so it lists every test as
// ignored and says once how to run them, rather than failing them one by one with
// NotCapable.
import { isDeepStrictEqual } from "node:util";

interface DenoTest {
  (
    t: { name: string; fn: () => Promise<void>; sanitizeOps: boolean; sanitizeResources: boolean; ignore?: boolean },
  ): void;
  afterAll(fn: () => Promise<void>): void;
}
declare const Deno: {
  test: DenoTest;
  permissions: { querySync(d: { name: string }): { state: string } };
};

/** The permissions the suites need, as deno.json's "test" set grants them. */
const NEEDED = ["read", "write", "net", "env", "run", "sys"];
let permitted: boolean | undefined;
function suitesPermitted(): boolean {
  if (permitted === undefined) {
    const missing = NEEDED.filter((name) => Deno.permissions.querySync({ name }).state !== "granted");
    permitted = missing.length === 0;
    if (!permitted) {
      console.error(
        `deno test: these tests need ${missing.join(", ")} permissions, which a plain \`deno test\` does not grant;` +
          " every test is listed as ignored. Run `deno test -P=test` (deno.json's permission set) or `make test-deno`.",
      );
    }
  }
  return permitted;
}

// As bun:test, a hook or test may resolve with anything; only a rejection fails it.
type Fn = () => unknown;
/** bun:test's last argument of test() and of the hooks. */
type Timeout = number | { timeout?: number };
const DEFAULT_TEST_TIMEOUT_MS = 5_000;

/** A describe() block, or the file itself (the root). */
interface Suite {
  readonly name: string;
  readonly parent: Suite | undefined;
  readonly beforeAll: Hook[];
  readonly afterAll: Hook[];
  readonly beforeEach: Hook[];
  readonly afterEach: Hook[];
  /** Its tests that run, nested ones included, in order. */
  readonly cases: Case[];
  state: "waiting" | "started" | "finished";
  /** What beforeAll threw: every test of the suite fails with it. */
  failed?: unknown;
}
interface Hook {
  readonly fn: Fn;
  readonly timeoutMs: number | undefined;
}
interface Case {
  readonly name: string;
  readonly suite: Suite;
}

const root: Suite = newSuite("", undefined);
/** Every suite in the order declared: an inner one after the one around it. */
const suites: Suite[] = [root];
let current: Suite = root;

function newSuite(name: string, parent: Suite | undefined): Suite {
  return { name, parent, beforeAll: [], afterAll: [], beforeEach: [], afterEach: [], cases: [], state: "waiting" };
}

/** The suite and its ancestors, outermost first. */
function chain(s: Suite): Suite[] {
  const out: Suite[] = [];
  for (let x: Suite | undefined = s; x; x = x.parent) out.unshift(x);
  return out;
}

function fullName(name: string): string {
  return current === root ? name : `${current.name} > ${name}`;
}

/** Rejects, naming `what`, when `fn` has not settled within `ms` (no bound when undefined). */
async function bounded(what: string, fn: Fn, ms: number | undefined): Promise<void> {
  if (ms === undefined) return void await fn();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    await Promise.race([fn(), late]);
  } finally {
    clearTimeout(timer);
  }
}

async function runHooks(s: Suite, kind: "beforeAll" | "afterAll" | "beforeEach" | "afterEach"): Promise<void> {
  const where = s === root ? "the file" : JSON.stringify(s.name);
  for (const h of s[kind]) await bounded(`${kind} of ${where}`, h.fn, h.timeoutMs);
}

/**
 * Runs the afterAll hooks of every started suite that `next` is not in: Deno runs a
 * file's tests in the order they were declared, so a suite left is never re-entered.
 * `next` undefined: the file's tests are over.
 */
async function finishSuitesLeft(next: Case | undefined): Promise<void> {
  const keep = new Set(next ? chain(next.suite) : []);
  const started = [...suites].filter((s) => s.state === "started" && !keep.has(s)).reverse();
  for (const s of started) {
    s.state = "finished";
    await runHooks(s, "afterAll");
  }
}

/**
 * Registers a test with Deno: the hooks of its suites around its body. A suite's
 * afterAll runs right after its last declared test, or, when a filter left that one
 * out, before the next test outside the suite or when the file's tests are over.
 */
function register(name: string, body: Fn, timeoutMs: number, skip = false): void {
  const ignore = skip || !suitesPermitted();
  const c: Case = { name: fullName(name), suite: current };
  if (!ignore) { for (const s of chain(current)) s.cases.push(c); }
  Deno.test({
    name: c.name,
    ignore,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      await finishSuitesLeft(c);
      const outer = chain(c.suite);
      for (const s of outer) {
        if (s.state === "waiting") {
          s.state = "started";
          try {
            await runHooks(s, "beforeAll");
          } catch (e) {
            s.failed = e;
          }
        }
        if (s.failed !== undefined) throw s.failed;
      }
      try {
        for (const s of outer) await runHooks(s, "beforeEach");
        try {
          await bounded(JSON.stringify(c.name), body, timeoutMs);
        } finally {
          for (const s of [...outer].reverse()) await runHooks(s, "afterEach");
        }
      } finally {
        for (const s of [...outer].reverse()) {
          if (s.cases.at(-1) === c && s.state === "started") {
            s.state = "finished";
            await runHooks(s, "afterAll");
          }
        }
      }
    },
  });
}
Deno.test.afterAll(() => finishSuitesLeft(undefined));

function timeoutOf(t: Timeout | undefined, fallback: number | undefined): number | undefined {
  return (typeof t === "number" ? t : t?.timeout) ?? fallback;
}

/** Groups tests; hooks declared inside apply to the tests declared inside. */
export function describe(name: string, body: () => void): void {
  const outer = current;
  const s = newSuite(fullName(name), outer);
  suites.push(s);
  current = s;
  try {
    body();
  } finally {
    current = outer;
  }
}

function hook(kind: "beforeAll" | "afterAll" | "beforeEach" | "afterEach") {
  return (fn: Fn, timeout?: Timeout): void => {
    current[kind].push({ fn, timeoutMs: timeoutOf(timeout, undefined) });
  };
}
export const beforeAll = hook("beforeAll");
export const afterAll = hook("afterAll");
export const beforeEach = hook("beforeEach");
export const afterEach = hook("afterEach");

/** Declares a test that fails when `fn` throws, rejects or outlasts its timeout (5 s by default). */
export function test(name: string, fn: Fn, timeout?: Timeout): void {
  register(name, fn, timeoutOf(timeout, DEFAULT_TEST_TIMEOUT_MS)!);
}
/** A skipped test: `deno test` lists it as ignored, as `bun test` lists it as skipped. */
test.skip = (name: string, fn: Fn, _timeout?: Timeout): void => {
  register(name, fn, 0, true);
};
/** A test of a known defect: it passes while `fn` fails, and fails once `fn` passes. */
test.failing = (name: string, fn: Fn, timeout?: Timeout): void => {
  register(name, async () => {
    try {
      await fn();
    } catch {
      return;
    }
    throw new Error(`${JSON.stringify(name)} is marked failing but passed; drop .failing`);
  }, timeoutOf(timeout, DEFAULT_TEST_TIMEOUT_MS)!);
};
export const it = test;

// deno-lint-ignore no-explicit-any
type AnyFn = (...args: any[]) => any;

/** A function that records its calls, as bun:test's mock(). */
export interface Mock<F extends AnyFn> {
  (...args: Parameters<F>): ReturnType<F>;
  readonly mock: {
    /** The arguments of every call, in order. */
    readonly calls: Parameters<F>[];
    /** What each call returned or threw. */
    readonly results: { type: "return" | "throw"; value: unknown }[];
    readonly lastCall: Parameters<F> | undefined;
  };
  /** Calls `impl` from now on. */
  mockImplementation(impl: F): Mock<F>;
  /** Calls `impl` for the next call only. */
  mockImplementationOnce(impl: F): Mock<F>;
  mockReturnValue(v: ReturnType<F>): Mock<F>;
  mockReturnValueOnce(v: ReturnType<F>): Mock<F>;
  mockResolvedValue(v: Awaited<ReturnType<F>>): Mock<F>;
  mockRejectedValue(e: unknown): Mock<F>;
  /** Forgets the calls. */
  mockClear(): Mock<F>;
  /** Forgets the calls and the implementations. */
  mockReset(): Mock<F>;
}

/**
 * Returns a function that calls `impl` (or returns undefined) and records each call.
 *
 * @example
 * ```ts
 * const onScrape = mock(() => 1);
 * onScrape();
 * expect(onScrape).toHaveBeenCalledTimes(1);
 * ```
 */
export function mock<F extends AnyFn>(impl?: F): Mock<F> {
  let base: AnyFn | undefined = impl;
  const once: AnyFn[] = [];
  const state = { calls: [] as Parameters<F>[], results: [] as { type: "return" | "throw"; value: unknown }[] };
  const m = function (this: unknown, ...args: Parameters<F>) {
    state.calls.push(args);
    const f = once.shift() ?? base;
    try {
      const value = f?.apply(this, args);
      state.results.push({ type: "return", value });
      return value;
    } catch (e) {
      state.results.push({ type: "throw", value: e });
      throw e;
    }
  } as unknown as Mock<F>;
  Object.defineProperty(m, "mock", {
    get: () => ({ calls: state.calls, results: state.results, lastCall: state.calls.at(-1) }),
  });
  // Each setter returns the mock, so that calls chain as in bun:test.
  const fluent = <A extends unknown[]>(f: (...a: A) => void) => (...a: A) => (f(...a), m);
  Object.assign(m, {
    mockImplementation: fluent((f: F) => base = f),
    mockImplementationOnce: fluent((f: F) => once.push(f)),
    mockReturnValue: fluent((v: unknown) => base = () => v),
    mockReturnValueOnce: fluent((v: unknown) => once.push(() => v)),
    mockResolvedValue: fluent((v: unknown) => base = () => Promise.resolve(v)),
    mockRejectedValue: fluent((e: unknown) => base = () => Promise.reject(e)),
    mockClear: fluent(() => {
      state.calls.length = 0;
      state.results.length = 0;
    }),
    mockReset: fluent(() => {
      state.calls.length = 0;
      state.results.length = 0;
      once.length = 0;
      base = undefined;
    }),
  });
  return m;
}

function isMock(v: unknown): v is Mock<AnyFn> {
  return typeof v === "function" && "mock" in v && "mockClear" in v;
}

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

/**
 * Whether `actual` has everything `expected` has, as bun:test's toMatchObject: objects
 * may have more properties, arrays must have as many elements, each matching.
 */
function matchesObject(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length &&
      expected.every((e, i) => matchesObject(actual[i], e));
  }
  if (expected !== null && typeof expected === "object" && Object.getPrototypeOf(expected) === Object.prototype) {
    if (actual === null || typeof actual !== "object") return false;
    return Object.entries(expected).every(([k, e]) =>
      k in actual && matchesObject((actual as Record<string, unknown>)[k], e)
    );
  }
  return isDeepStrictEqual(actual, expected);
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
  #mock(): Mock<AnyFn> {
    if (!isMock(this.actual)) throw new Error(`expected a mock() function, got ${show(this.actual)}`);
    return this.actual;
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
  toMatchObject(v: object) {
    if (this.actual === null || typeof this.actual !== "object") {
      throw new Error(`toMatchObject: got ${show(this.actual)}, want a non-null object`);
    }
    this.#check(matchesObject(this.actual, v), `to match the object ${show(v)}`);
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
    this.#check(
      typeof a === "string" ? a.includes(v as string) : a.some((x) => Object.is(x, v)),
      `to contain ${show(v)}`,
    );
  }
  toHaveLength(n: number) {
    this.#check((this.actual as { length: number }).length === n, `to have length ${n}`);
  }
  toMatch(re: RegExp | string) {
    const s = this.actual as string;
    this.#check(typeof re === "string" ? s.includes(re) : re.test(s), `to match ${re}`);
  }
  toStartWith(prefix: string) {
    this.#check(typeof this.actual === "string" && this.actual.startsWith(prefix), `to start with ${show(prefix)}`);
  }
  toEndWith(suffix: string) {
    this.#check(typeof this.actual === "string" && this.actual.endsWith(suffix), `to end with ${show(suffix)}`);
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
    this.#check(
      did && matchesError(thrown, expected),
      `to throw ${expected ?? ""} (threw ${did ? show(thrown) : "nothing"})`,
    );
  }
  toHaveBeenCalled() {
    const n = this.#mock().mock.calls.length;
    this.#check(n > 0, `to have been called (called ${n} times)`);
  }
  toHaveBeenCalledTimes(times: number) {
    const n = this.#mock().mock.calls.length;
    this.#check(n === times, `to have been called ${times} times (called ${n} times)`);
  }
  toHaveBeenCalledWith(...args: unknown[]) {
    const calls = this.#mock().mock.calls;
    this.#check(
      calls.some((c) => isDeepStrictEqual(c, args)),
      `to have been called with ${show(args)} (calls: ${show(calls)})`,
    );
  }
  toHaveBeenLastCalledWith(...args: unknown[]) {
    const last = this.#mock().mock.lastCall;
    this.#check(
      isDeepStrictEqual(last, args),
      `to have been last called with ${show(args)} (last call: ${show(last)})`,
    );
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
