// The premise of reusing a body's buffer once its Response is made: the Fetch standard
// has `new Response(bufferSource)` take "a copy of the bytes held by object". If a
// runtime ever stopped copying, reuse would corrupt bodies still being sent; this test
// says so first.
import { describe, expect, test } from "bun:test";

describe("new Response(Uint8Array)", () => {
  test("copies the bytes: changing the buffer afterwards changes neither the body nor what is served", async () => {
    const buf = new Uint8Array(4 * 1024 * 1024).fill(0x41); // larger than a socket buffer
    const res = new Response(buf.subarray(0, buf.length - 1));
    buf.fill(0x42);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body.length).toBe(buf.length - 1);
    expect(body.every((b) => b === 0x41)).toBe(true);
  });
});
