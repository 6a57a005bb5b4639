// Run by testing/bun_test_shim_test.ts under `bun test` and under `deno test` (where
// bun:test is the shim), with a filter, to compare what each runner does with hooks,
// skipped, failing and slow tests. Every line the tests look for starts "fixture:".
import { afterAll, beforeAll, describe, test } from "bun:test";

const say = (s: string) => console.log(`fixture: ${s}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("hooks", () => {
  beforeAll(() => say("beforeAll"));
  afterAll(() => say("afterAll"));
  test("first", () => say("first"));
  test("middle", () => say("middle"));
  test("last", () => say("last"));
});

describe("kinds", () => {
  test.skip("skipped", () => say("the skipped body ran"));
  test.failing("a known defect", () => {
    throw new Error("still broken");
  });
});

describe("timeouts", () => {
  test("too slow", async () => {
    await sleep(300);
    say("too slow finished");
  }, 100);
});

describe("fixed", () => {
  test.failing("a defect that was fixed", () => {});
});

describe("defaults", () => {
  test("no timeout of its own", async () => {
    await sleep(5_500);
  });
});
