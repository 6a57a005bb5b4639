import { describe, expect, test } from "bun:test";
import { closeSync, openSync, readFileSync } from "node:fs";
import process from "node:process";
import { auxvPageSize, OpenFds } from "./_procfs.ts";

const onLinux = process.platform === "linux" ? test : test.skip;

describe("OpenFds", () => {
  onLinux("follows a descriptor opened and closed, counted from the kept-open directory", () => {
    const fds = new OpenFds("/proc/self/fd");
    const before = fds.count()!;
    expect(before).toBeGreaterThan(2);
    const fd = openSync("/proc/self/stat", "r");
    try {
      expect(fds.count()).toBe(before + 1);
    } finally {
      closeSync(fd);
    }
    expect(fds.count()).toBe(before);
  });

  test("an unreadable directory gives undefined, and again without retrying", () => {
    const fds = new OpenFds("/nonexistent/proc/self/fd");
    expect(fds.count()).toBeUndefined();
    expect(fds.count()).toBeUndefined();
  });
});

/** An auxiliary vector of 64-bit little-endian (type, value) pairs, as x86-64 and arm64 write it. */
function auxv(...pairs: [number, number][]): Uint8Array {
  const v = new DataView(new ArrayBuffer(pairs.length * 16));
  pairs.forEach(([type, value], i) => {
    v.setBigUint64(i * 16, BigInt(type), true);
    v.setBigUint64(i * 16 + 8, BigInt(value), true);
  });
  return new Uint8Array(v.buffer);
}

describe("auxvPageSize", () => {
  const cases: { name: string; bytes: Uint8Array; want: number | undefined }[] = [
    {
      name: "4 KiB among other entries, addresses among them",
      bytes: auxv([33, 0x7f00_0000_0000], [16, 0xbfebfbff], [6, 4096], [17, 100], [0, 0]),
      want: 4096,
    },
    { name: "16 KiB (arm64 kernels)", bytes: auxv([6, 16384], [0, 0]), want: 16384 },
    { name: "64 KiB", bytes: auxv([6, 65536], [0, 0]), want: 65536 },
    { name: "AT_NULL before any AT_PAGESZ", bytes: auxv([16, 1], [0, 0], [6, 4096]), want: undefined },
    { name: "no AT_PAGESZ at all", bytes: auxv([16, 1], [17, 100]), want: undefined },
    { name: "a value that is no page size", bytes: auxv([6, 4097], [0, 0]), want: undefined },
    {
      name: "32-bit pairs (type 6 then 4096 in 4-byte words)",
      bytes: new Uint8Array(new Uint32Array([6, 4096, 0, 0]).buffer),
      want: undefined,
    },
    { name: "empty", bytes: new Uint8Array(0), want: undefined },
  ];
  for (const c of cases) {
    test(c.name, () => {
      expect(auxvPageSize(c.bytes)).toBe(c.want);
    });
  }

  onLinux("this process' /proc/self/auxv gives a power of two of at least 4 KiB", () => {
    const size = auxvPageSize(readFileSync("/proc/self/auxv"));
    expect(size).toBeGreaterThanOrEqual(4096);
    expect(size! & (size! - 1)).toBe(0);
  });
});
