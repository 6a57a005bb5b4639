import { describe, expect, test } from "bun:test";
import { closeSync, openSync } from "node:fs";
import process from "node:process";
import { OpenFds } from "./_procfs.ts";

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
