// The Bun transport of the kit's HTTP/1.1 server (web/_http1.ts): Bun.listen's
// callback sockets (open, data, drain, end, close) as the pull-style Conn and
// ConnListener that the server reads from and writes to, as Deno.listen gives them.
// Bun.serve has no hook on accept, no header timeout of the kit's choosing and no way
// to close one connection whose client stopped reading (RELIABILITY.md); over
// Bun.listen the server owns each socket, so it can.
//
// Private to web/: only web/_serve_bun.ts uses it. Nothing here touches `Bun` until
// listenBun is called, so the in-memory tests run under `deno test` too.
import type { Conn, ConnListener } from "./_http1.ts";

/** What of a Bun socket (Bun.listen's `Socket`) this transport uses. */
export interface BunSocket {
  /** Bytes taken (maybe fewer than given: the rest waits for `drain`); -1 when closed. */
  write(data: Uint8Array): number;
  /** Flushes what was taken and closes the socket. */
  end(): void;
  /** Shuts the sending side down (TCP FIN; TLS close_notify); reading goes on. */
  shutdown(halfClose?: boolean): void;
  /** Closes the socket at once, dropping what is not yet sent. */
  terminate(): void;
  pause(): void;
  resume(): void;
  data: unknown;
}

/** Received bytes queued, at most, before the socket stops reading (pause) until the server takes them. */
export const maxQueuedBytes = 128 * 1024;

const closedError = () => Object.assign(new Error("connection closed"), { name: "BadResource" });

/** One accepted socket as a Conn. The socket's callbacks call the `on…` methods. */
export class BunConn implements Conn {
  #in: Uint8Array[] = [];
  #queued = 0;
  #paused = false;
  /** The client sent FIN, or the socket closed. */
  #eof = false;
  /** The socket closed: nothing more can be written. */
  #gone = false;
  /** close() was called here. */
  #closedHere = false;
  #writing = false;
  #readWait: (() => void) | undefined;
  #drainWait: (() => void) | undefined;

  constructor(readonly socket: BunSocket) {}

  #wake(): void {
    const r = this.#readWait, d = this.#drainWait;
    this.#readWait = this.#drainWait = undefined;
    r?.();
    d?.();
  }

  onData(b: Uint8Array): void {
    if (this.#closedHere) return;
    this.#in.push(b);
    this.#queued += b.length;
    // A client that sends faster than the server reads (pipelined requests, or a body
    // being dropped) waits in the kernel's buffers, not in this process' memory.
    if (this.#queued >= maxQueuedBytes && !this.#paused) {
      this.#paused = true;
      this.socket.pause();
    }
    this.#wake();
  }
  onEnd(): void {
    this.#eof = true;
    this.#wake();
  }
  onClose(): void {
    this.#eof = this.#gone = true;
    this.#wake();
  }
  onDrain(): void {
    this.#wake();
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (!this.#in.length && !this.#eof && !this.#closedHere) await new Promise<void>((r) => this.#readWait = r);
    if (this.#closedHere) throw closedError();
    if (!this.#in.length) return null;
    const b = this.#in[0];
    const n = Math.min(p.length, b.length);
    p.set(n === b.length ? b : b.subarray(0, n));
    if (n === b.length) this.#in.shift();
    else this.#in[0] = b.subarray(n);
    this.#queued -= n;
    if (this.#paused && this.#queued < maxQueuedBytes / 2) {
      this.#paused = false;
      this.socket.resume();
    }
    return n;
  }

  async write(p: Uint8Array): Promise<number> {
    this.#writing = true;
    try {
      for (;;) {
        if (this.#gone || this.#closedHere) throw closedError();
        const n = this.socket.write(p);
        if (n > 0) return n;
        if (n < 0) throw closedError();
        // The socket's buffer is full (a client that does not read): wait for drain,
        // or for close() — the server's write timeout — which ends the wait.
        await new Promise<void>((r) => this.#drainWait = r);
      }
    } finally {
      this.#writing = false;
    }
  }

  close(): void {
    if (this.#closedHere) return;
    this.#closedHere = true;
    this.#in = [];
    try {
      // A write waiting on a client that does not read is dropped (terminate); else
      // end() sends what the socket holds and closes it.
      if (this.#writing || this.#gone) this.socket.terminate();
      else this.socket.end();
    } catch { /* already closed */ }
    this.#wake();
  }

  closeWrite(): Promise<void> {
    try {
      this.socket.shutdown(true);
    } catch { /* already closed */ }
    return Promise.resolve();
  }
}

/** Accepted sockets, handed to the server's accept loop in order. */
export class BunConnListener implements ConnListener {
  #queue: BunConn[] = [];
  #wait: (() => void) | undefined;
  #closed = false;

  constructor(private readonly stopListening: () => void = () => {}) {}

  /** A socket was accepted: the `open` callback. */
  opened(socket: BunSocket): BunConn {
    const c = new BunConn(socket);
    socket.data = c;
    if (this.#closed) c.close();
    else {
      this.#queue.push(c);
      this.#wait?.();
    }
    return c;
  }

  async accept(): Promise<Conn> {
    for (;;) {
      const c = this.#queue.shift();
      if (c) return c;
      if (this.#closed) throw closedError();
      await new Promise<void>((r) => this.#wait = r);
      this.#wait = undefined;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.stopListening();
    } catch { /* already stopped */ }
    for (const c of this.#queue.splice(0)) c.close();
    this.#wait?.();
  }
}

declare const Bun: {
  listen(o: {
    hostname: string;
    port: number;
    tls?: Record<string, unknown>;
    reusePort?: boolean;
    socket: {
      open(s: BunSocket): void;
      data(s: BunSocket, d: Uint8Array): void;
      drain(s: BunSocket): void;
      end(s: BunSocket): void;
      close(s: BunSocket): void;
      error(s: BunSocket, e: unknown): void;
    };
  }): { hostname: string; port: number; stop(closeActive?: boolean): void };
};

const conn = (s: BunSocket) => s.data instanceof BunConn ? s.data : undefined;

/**
 * Listens with Bun.listen (TCP, or TLS with `tls`: Bun's TLS options, as Bun.serve
 * takes them) and returns the listener for web/_http1.ts' Http1Server, with the
 * address it listens on.
 */
export function listenBun(
  o: { hostname: string; port: number; tls?: Record<string, unknown>; reusePort?: boolean },
): BunConnListener & { hostname: string; port: number } {
  // stop(false): no more accepts; the server closes its connections itself.
  const l = new BunConnListener(() => server.stop(false));
  const server = Bun.listen({
    hostname: o.hostname,
    port: o.port,
    ...(o.tls ? { tls: o.tls } : {}),
    ...(o.reusePort ? { reusePort: true } : {}),
    socket: {
      open: (s) => void l.opened(s),
      data: (s, d) => conn(s)?.onData(d),
      drain: (s) => conn(s)?.onDrain(),
      end: (s) => conn(s)?.onEnd(),
      close: (s) => conn(s)?.onClose(),
      error: (s) => conn(s)?.onClose(),
    },
  });
  return Object.assign(l, { hostname: server.hostname, port: server.port });
}
