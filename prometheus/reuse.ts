/**
 * Memory kept from one scrape for the next: the columns a collector's series were
 * stored in (see _capture.ts) and the buffers large expositions are encoded into.
 * Every pool of the kit lives here, with the one expiry they share.
 *
 * Why keep memory at all (the one place this is argued; other comments point here):
 * memory that was used before costs nothing to write, while fresh memory costs a page
 * fault per 4 KiB, ~10–17 µs each on the benchmark machine (a VM), and every byte
 * allocated brings the next garbage collection nearer. Measured on 2026-12-03 (a
 * shared, loaded 2-core machine; minor faults from /proc/PID/stat over 40 sequential
 * curl scrapes of bench/series_server.ts --series 100000, compiled): 1,600–2,500
 * faults a scrape with this module's pools disabled, 300–600 with them.
 * @module
 */

/**
 * How long memory kept for reuse is kept without being reused: scraped back to back, a
 * large exposition reuses it; after a one-off large scrape, it is handed back this
 * long after.
 */
export const spareTtlMs = 3_000;

/**
 * Calls `drop` once `spareTtlMs` have passed since the latest call of the returned
 * function. A call costs a clock read: the timer is set once and, when it fires early
 * (there were calls since), set again for the rest. It does not keep the process alive.
 */
function expiring(drop: () => void): () => void {
  let last = 0;
  let armed = false;
  const arm = (ms: number) => {
    armed = true;
    const timer = setTimeout(fire, ms);
    // unref exists on Bun's and Deno's (node-compatible) timer objects.
    (timer as { unref?: () => void }).unref?.();
  };
  const fire = () => {
    armed = false;
    const left = last + spareTtlMs - performance.now();
    if (left > 0) arm(left);
    else drop();
  };
  return () => {
    last = performance.now();
    if (!armed) arm(spareTtlMs);
  };
}

/**
 * At most one spare value per key (a registered collector's columns, say), all let go
 * once none has been put back for {@linkcode spareTtlMs}.
 */
export class SparePool<K, V> {
  readonly #spares = new Map<K, V | undefined>();
  readonly #touch = expiring(() => this.#spares.clear());

  /**
   * Takes the spare of `key`, if one is kept; it is no longer kept. The key stays, with
   * no value: taken and put back on every scrape, deleting and adding it again made
   * the Map allocate.
   */
  take(key: K): V | undefined {
    const v = this.#spares.get(key);
    if (v !== undefined) this.#spares.set(key, undefined);
    return v;
  }

  /** Keeps `value` as the spare of `key` unless one is kept already. */
  put(key: K, value: V): void {
    if (this.#spares.get(key) === undefined) this.#spares.set(key, value);
    this.#touch();
  }

  /** Forgets the spare of `key` (its collector was unregistered, say). */
  delete(key: K): void {
    this.#spares.delete(key);
  }
}

/**
 * Two spare encoding buffers: two scrapes encoding at once (each yields to the other)
 * need not allocate.
 */
const maxBuffers = 2;
const buffers: Uint8Array[] = [];
const buffersKept = expiring(() => {
  buffers.length = 0;
});

/**
 * A buffer for about `size` bytes: one kept from an earlier encoding when it holds at
 * least `size / slack` (the encoder grows it in the rare case the body outgrew it),
 * else a new one of `size`. A kept buffer far larger than asked for (left by an earlier,
 * larger scrape) is let go rather than held.
 */
export function takeBuffer(size: number, slack = 1.05): Uint8Array {
  const b = buffers.pop();
  if (b !== undefined && b.length * slack >= size && b.length <= 4 * size + (1 << 20)) return b;
  return new Uint8Array(Math.max(size, 64 * 1024));
}

/**
 * Hands a buffer back for a later encoding. Only for a buffer nothing reads any more:
 * the next encoding overwrites it.
 */
export function giveBuffer(b: Uint8Array): void {
  if (buffers.length < maxBuffers && !buffers.includes(b)) buffers.push(b);
  buffersKept();
}
