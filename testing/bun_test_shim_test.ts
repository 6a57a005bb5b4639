// One specification for bun:test and for the Deno shim of it: under `bun test` these
// tests check Bun's own runner, under `deno test` (where deno.json maps bun:test to
// bun_test_shim.ts) the shim, so the shim cannot drift from what it imitates. The
// runner's behaviour (hooks around a filtered run, skip, failing, timeouts) is read
// from a run of testdata/shim_fixture.ts by the same runtime.
import { describe, expect, mock, test } from "bun:test";
import process from "node:process";
import { DENO, run, type RunResult } from "./process.ts";

const FIXTURE = "testing/testdata/shim_fixture.ts";

/** Runs the fixture's tests whose names contain `filter`, with this test's runtime. */
function runFixture(filter: string): Promise<RunResult> {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const env = { NO_COLOR: "1" };
  if ("Bun" in globalThis) return run(process.execPath, ["test", `./${FIXTURE}`, "-t", filter], "", 60_000, env);
  // --no-check: six type checks of the same file at once would take most of the time.
  return run(deno!.execPath(), ["test", "--no-prompt", "--no-check", "--filter", filter, FIXTURE], "", 60_000, env);
}

/** The fixture's `fixture: …` lines, in order. */
function said(r: RunResult): string[] {
  return [...(r.stdout + r.stderr).matchAll(/^fixture: (.*)$/gm)].map((m) => m[1]);
}

describe("the runner", () => {
  // Started together: the default-timeout case alone takes 5 s.
  const runs = new Map(
    ["middle", "hooks", "kinds", "fixed", "too slow", "no timeout of its own"].map((f) => [f, runFixture(f)]),
  );
  for (const r of runs.values()) r.catch(() => {}); // reported by the test that awaits it
  const result = async (filter: string) => {
    const r = await runs.get(filter)!;
    return { ...r, output: `${r.stdout}${r.stderr}`, said: said(r) };
  };

  test("a filtered run still gets its describe's beforeAll and afterAll", async () => {
    const r = await result("middle");
    expect({ code: r.code, said: r.said }).toEqual({ code: 0, said: ["beforeAll", "middle", "afterAll"] });
  }, 60_000);

  test("beforeAll once before a describe's tests, afterAll once after them", async () => {
    const r = await result("hooks");
    expect({ code: r.code, said: r.said }).toEqual({
      code: 0,
      said: ["beforeAll", "first", "middle", "last", "afterAll"],
    });
  }, 60_000);

  test("test.skip is reported as skipped and does not run; test.failing passes while its body throws", async () => {
    const r = await result("kinds");
    expect({ code: r.code, said: r.said }).toEqual({ code: 0, said: [] });
    expect(r.output).toMatch(/\b1 (skip|ignored)\b/);
  }, 60_000);

  test("test.failing fails once its body passes", async () => {
    const r = await result("fixed");
    expect(r.code).toBe(1);
  }, 60_000);

  test("a test over its own timeout fails, saying so", async () => {
    const r = await result("too slow");
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/timed out after 100 ?ms/);
  }, 60_000);

  test("a test without a timeout of its own has 5 s", async () => {
    const r = await result("no timeout of its own");
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/timed out after 5000 ?ms/);
  }, 60_000);
});

describe("mock", () => {
  test("records each call's arguments and result", () => {
    const add = mock((a: number, b: number) => a + b);
    expect(add(1, 2)).toBe(3);
    expect(add(3, 4)).toBe(7);
    expect(add.mock.calls).toEqual([[1, 2], [3, 4]]);
    expect(add.mock.results).toEqual([{ type: "return", value: 3 }, { type: "return", value: 7 }]);
    expect(add.mock.lastCall).toEqual([3, 4]);
  });

  test("records a throw, and rethrows it", () => {
    const boom = mock(() => {
      throw new Error("boom");
    });
    expect(() => boom()).toThrow("boom");
    expect(boom.mock.results[0].type).toBe("throw");
  });

  test("once-values come first, then the standing value; mockClear forgets calls only", () => {
    const f = mock(() => 0).mockReturnValueOnce(1).mockReturnValueOnce(2).mockReturnValue(9);
    expect([f(), f(), f(), f()]).toEqual([1, 2, 9, 9]);
    f.mockClear();
    expect(f.mock.calls).toHaveLength(0);
    expect(f()).toBe(9);
    f.mockReset();
    expect(f()).toBeUndefined();
    f.mockImplementation(() => 5);
    expect(f()).toBe(5);
  });

  test("mockResolvedValue and mockRejectedValue return promises", async () => {
    const ok = mock(() => Promise.resolve(0)).mockResolvedValue(42);
    expect(await ok()).toBe(42);
    const bad = mock(() => Promise.resolve(0)).mockRejectedValue(new Error("nope"));
    await expect(bad()).rejects.toThrow("nope");
  });

  test("toHaveBeenCalled, …Times, …With and …LastCalledWith", () => {
    const f = mock((_s: string, _n?: number) => {});
    expect(f).not.toHaveBeenCalled();
    expect(() => expect(f).toHaveBeenCalled()).toThrow();
    f("a", 1);
    f("b");
    expect(f).toHaveBeenCalled();
    expect(f).toHaveBeenCalledTimes(2);
    expect(() => expect(f).toHaveBeenCalledTimes(3)).toThrow();
    expect(f).toHaveBeenCalledWith("a", 1);
    expect(f).not.toHaveBeenCalledWith("a");
    expect(f).toHaveBeenLastCalledWith("b");
    expect(() => expect(f).toHaveBeenLastCalledWith("a", 1)).toThrow();
  });
});

describe("toMatchObject", () => {
  const cases: { name: string; actual: unknown; expected: object; match: boolean }[] = [
    { name: "a subset of the properties", actual: { a: 1, b: 2 }, expected: { a: 1 }, match: true },
    { name: "nested subsets", actual: { a: { b: 1, c: 2 }, d: 3 }, expected: { a: { b: 1 } }, match: true },
    {
      name: "arrays element by element",
      actual: { xs: [{ a: 1, b: 2 }, { a: 3 }] },
      expected: { xs: [{ a: 1 }, { a: 3 }] },
      match: true,
    },
    { name: "a different value", actual: { a: 1 }, expected: { a: 2 }, match: false },
    { name: "a missing property", actual: { a: 1 }, expected: { b: undefined }, match: false },
    { name: "an array of another length", actual: { xs: [1, 2] }, expected: { xs: [1] }, match: false },
  ];
  for (const c of cases) {
    test(`${c.name}: ${c.match ? "matches" : "does not match"}`, () => {
      if (c.match) expect(c.actual).toMatchObject(c.expected);
      else expect(() => expect(c.actual).toMatchObject(c.expected)).toThrow();
      if (c.match) expect(() => expect(c.actual).not.toMatchObject(c.expected)).toThrow();
      else expect(c.actual).not.toMatchObject(c.expected);
    });
  }
});

test("toMatchObject on a value that is not an object is an error, negated or not", () => {
  expect(() => expect(1).toMatchObject({ a: 1 })).toThrow();
  expect(() => expect(null).not.toMatchObject({ a: 1 })).toThrow();
});

test("toStartWith and toEndWith", () => {
  expect("text/plain; version=0.0.4").toStartWith("text/plain");
  expect("text/plain; version=0.0.4").toEndWith("0.0.4");
  expect(() => expect("abc").toStartWith("b")).toThrow();
  expect("abc").not.toEndWith("b");
});

// Run from Bun: a deno started by a deno test inherits that run's permissions.
if ("Bun" in globalThis) {
  test("a plain `deno test` (no permissions) lists every test as ignored and says how to run them", async () => {
    const r = await run(DENO, ["test", "--no-prompt", "--no-check", FIXTURE], "", 60_000, { NO_COLOR: "1" });
    const output = r.stdout + r.stderr;
    expect(r.code).toBe(0);
    expect(output).toContain("Run `deno test -P=test`");
    expect(output).toMatch(/0 passed \| 0 failed \| 8 ignored/);
  }, 60_000);
}
