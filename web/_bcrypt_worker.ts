// A Deno worker that runs bcryptjs, so that a comparison (~85 ms at cost 10, pure
// JavaScript) never blocks the event loop that answers /-/healthy and scrapes.
// Messages in: { id, password, hash }; out: { id, ok }. Started by web/auth.ts on Deno
// only: Bun verifies natively off the main thread, and the compiled binary never loads it.
import bcrypt from "bcryptjs";

const self = globalThis as unknown as {
  onmessage: ((e: MessageEvent<{ id: number; password: string; hash: string }>) => void) | null;
  postMessage(m: unknown): void;
};
self.onmessage = async (e) => {
  const { id, password, hash } = e.data;
  const ok = await bcrypt.compare(password, hash).catch(() => false);
  self.postMessage({ id, ok });
};
