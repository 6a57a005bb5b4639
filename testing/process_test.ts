// The harness every suite starts its processes with: what it promises about output,
// environment, stopping and deadlines, on Bun and on Deno.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { freePort, memory, openFds, Proc, run } from "./process.ts";

describe("Proc", () => {
  const procs: Proc[] = [];
  const start = (...a: ConstructorParameters<typeof Proc>) => {
    const p = new Proc(...a);
    procs.push(p);
    return p;
  };
  const dir = mkdtempSync(join(tmpdir(), "process-test-"));
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill()));
    rmSync(dir, { recursive: true, force: true });
  });

  test("a character split between two chunks of output arrives whole", async () => {
    // é is C3 A9 in UTF-8; the pause makes the two bytes arrive in separate reads.
    const r = await run("sh", ["-c", "printf '\\303'; sleep 0.2; printf '\\251\\n'"], "", 10_000);
    expect(r.stdout).toBe("é\n");
  });

  test("the test's EXPORTER_* variables do not reach a child; the ones it is given do", async () => {
    process.env.EXPORTER_FROM_TEST = "leaked";
    try {
      const r = await run("sh", ["-c", "echo ${EXPORTER_FROM_TEST:-unset} ${EXPORTER_GIVEN:-unset}"], "", 10_000, {
        EXPORTER_GIVEN: "given",
      });
      expect(r.stdout).toBe("unset given\n");
    } finally {
      delete process.env.EXPORTER_FROM_TEST;
    }
  });

  test("waitOutput resolves with the count-th match, and rejects once the process has ended without it", async () => {
    const p = start("counter", "sh", ["-c", "echo n=1; echo n=2; echo n=3"]);
    expect((await p.waitOutput(/n=(\d)/, 2))[1]).toBe("2");
    await p.exited;
    let err: unknown;
    await p.waitOutput(/n=4/).catch((e) => err = e);
    expect(String(err)).toContain("counter (pid");
    expect(String(err)).toContain("exited (code 0");
  });

  test("stop sends SIGTERM, then SIGKILL to a process that ignores it", async () => {
    // exec: sleep itself inherits the ignored SIGTERM, and no orphan outlives the shell.
    const p = start("stubborn", "sh", ["-c", "trap '' TERM; echo ready; exec sleep 30"]);
    await p.waitOutput(/ready/);
    expect(await p.stop("SIGTERM", 300)).toEqual({ code: null, signal: "SIGKILL" });
    expect(p.running).toBe(false);
  });

  test("stop ends a process that honours SIGTERM without SIGKILL", async () => {
    const p = start("polite", "sh", ["-c", "echo ready; exec sleep 30"]);
    await p.waitOutput(/ready/);
    expect(await p.stop()).toEqual({ code: null, signal: "SIGTERM" });
  });

  test("output beyond `keep` characters keeps the last ones", async () => {
    const p = start("chatty", "sh", ["-c", "printf '%s' 0123456789abcdefghij"], { keep: 10 });
    await p.exited;
    expect(p.stdout).toBe("abcdefghij");
  });

  test("with `log`, output goes to the file, and failure messages point there", async () => {
    const log = join(dir, "logged.log");
    const p = start("logged", "sh", ["-c", "echo to the log; echo and stderr >&2"], { log });
    await p.exited;
    expect(readFileSync(log, "utf8")).toBe("to the log\nand stderr\n");
    expect(p.describe()).toContain(`in ${log}`);
  });

  test("send writes a line to the process' stdin", async () => {
    const p = start("echo", "sh", ["-c", "read line; echo got $line"], { stdin: "pipe" });
    p.send("hello");
    expect((await p.waitOutput(/got (\w+)/))[1]).toBe("hello");
  });

  test("send without a piped stdin is an error naming the process", () => {
    const p = start("deaf", "sh", ["-c", "exit 0"]);
    expect(() => p.send("x")).toThrow("deaf: started without stdin");
  });
});

describe("run", () => {
  test("returns the exit code and output of a command given stdin", async () => {
    const r = await run("sh", ["-c", "cat; echo err >&2; exit 3"], "input\n", 10_000);
    expect(r).toEqual({ code: 3, stdout: "input\n", stderr: "err\n" });
  });

  test("kills a command that outlasts its deadline, and says so", async () => {
    const r = await run("sleep", ["30"], "", 200);
    expect(r.code).toBeNull();
    expect(r.stderr).toContain("sleep: killed after 200 ms");
  });

  test("a command that cannot start has no code, and stderr says why", async () => {
    const r = await run("/nonexistent/command", [], "", 10_000);
    expect(r.code).toBeNull();
    expect(r.stderr).toContain("spawn /nonexistent/command");
  });
});

test("freePort returns a port this process can listen on", async () => {
  const port = freePort();
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once("error", reject);
    srv.listen(port, "127.0.0.1", () => resolve());
  });
  await new Promise((r) => srv.close(r));
});

test("memory and openFds read this process from /proc", () => {
  const m = memory(process.pid);
  expect(m.rss).toBeGreaterThan(1 << 20);
  expect(m.hwm).toBeGreaterThanOrEqual(m.rss);
  expect(openFds(process.pid)).toBeGreaterThan(2);
});
