// The connection limit as the adapters get it: --web.max-connections, bounded by the
// descriptor soft limit where it can be read (web/adapter.ts).
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { adapter, descriptorHeadroom, effectiveMaxConnections, parseOpenFilesLimit } from "./adapter.ts";

describe("effectiveMaxConnections", () => {
  const cases: [string, number, number | undefined, number][] = [
    ["the flag, below the descriptor limit", 512, 20_000, 512],
    ["the descriptor limit minus the headroom, when the flag is above it", 512, 256, 256 - descriptorHeadroom],
    ["0 (no limit) becomes the descriptor bound", 0, 1024, 1024 - descriptorHeadroom],
    ["the flag, when the descriptor limit is unknown", 512, undefined, 512],
    ["0 stays 0 when the descriptor limit is unknown", 0, undefined, 0],
    ["at least one connection, however low the descriptor limit", 512, 10, 1],
  ];
  for (const [name, wanted, soft, want] of cases) {
    test(name, () => expect(effectiveMaxConnections(wanted, soft)).toBe(want));
  }
});

describe("parseOpenFilesLimit", () => {
  test("the soft limit of 'Max open files'; unlimited or absent is undefined", () => {
    const row = (soft: string) =>
      `Max cpu time              unlimited            unlimited            seconds\nMax open files            ${soft}                 524288               files\n`;
    expect(parseOpenFilesLimit(row("1024"))).toBe(1024);
    expect(parseOpenFilesLimit(row("unlimited"))).toBe(undefined);
    expect(parseOpenFilesLimit("")).toBe(undefined);
  });

  test("this runtime's adapter reads the same limit as /proc/self/limits says (where it may read it)", async () => {
    let want: number | undefined;
    try {
      want = parseOpenFilesLimit(readFileSync("/proc/self/limits", "utf8"));
    } catch {
      want = undefined; // Deno without --allow-all: the adapter cannot read it either
    }
    expect((await adapter()).descriptorLimit?.()).toBe(want);
  });
});
