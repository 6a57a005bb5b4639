// A biased-quantile stream for targeted quantiles: Cormode, Korn, Muthukrishnan and
// Srivastava, "Effective Computation of Biased Quantiles over Data Streams" (ICDE
// 2005), the algorithm client_golang's Summary uses through beorn7/perks. For each
// target (q, ε) a query of q answers a value whose rank is within ε·n of q·n.
//
// The samples are kept as three parallel Float64Arrays (value, width g, delta Δ)
// rather than an object per sample, and a batch of observations is merged in one pass
// instead of one insertion at a time.

/** Samples a batch holds before it is merged; also perks' buffer size. */
export const batchSize = 500;

export class TargetedStream {
  readonly #q: Float64Array;
  /** Per target, 2ε/q and 2ε/(1-q): the invariant's two slopes, divided once. */
  readonly #below: Float64Array;
  readonly #above: Float64Array;
  /** Observations merged. */
  #n = 0;
  #len = 0;
  #v = new Float64Array(64);
  #g = new Float64Array(64);
  #d = new Float64Array(64);
  /** The arrays a merge writes into, swapped with the above: no allocation per batch. */
  #sv = new Float64Array(64);
  #sg = new Float64Array(64);
  #sd = new Float64Array(64);
  /** Observations not merged yet; exact while nothing was merged. */
  readonly #buf = new Float64Array(batchSize);
  #blen = 0;
  #bsorted = true;

  /** A stream for `targets`, pairs of quantile and allowed rank error. */
  constructor(targets: readonly (readonly [number, number])[]) {
    this.#q = Float64Array.from(targets, (t) => t[0]);
    this.#below = Float64Array.from(targets, ([q, eps]) => (2 * eps) / q);
    this.#above = Float64Array.from(targets, ([q, eps]) => (2 * eps) / (1 - q));
  }

  /** Observations in the stream. */
  count(): number {
    return this.#n + this.#blen;
  }

  /**
   * Adds `len` values of `values`; `sorted` says they are in ascending order, which
   * spares sorting them again when they come as a full batch.
   */
  insertMany(values: Float64Array, len: number, sorted: boolean): void {
    if (sorted && len === batchSize && this.#blen === 0) {
      this.#merge(values, len);
      return;
    }
    for (let i = 0; i < len; i++) {
      this.#buf[this.#blen++] = values[i];
      if (this.#blen === batchSize) this.#flush();
    }
    this.#bsorted = false;
  }

  /**
   * The value at quantile `q`. NaN when the stream is empty. While fewer than a
   * batch were observed, the answer is exact, as perks'.
   */
  query(q: number): number {
    if (this.#len === 0) {
      const l = this.#blen;
      if (l === 0) return NaN;
      this.#sortBuf();
      let i = Math.ceil(l * q);
      if (i > 0) i--;
      return this.#buf[Math.min(i, l - 1)];
    }
    if (this.#blen > 0) this.#flush();
    const v = this.#v, g = this.#g, d = this.#d, len = this.#len;
    let t = Math.ceil(q * this.#n);
    t += Math.ceil(this.#f(t) / 2);
    let p = 0;
    let r = 0;
    for (let i = 1; i < len; i++) {
      r += g[p];
      if (r + g[i] + d[i] > t) return v[p];
      p = i;
    }
    return v[p];
  }

  /** Forgets every observation. */
  reset(): void {
    this.#n = 0;
    this.#len = 0;
    this.#blen = 0;
    this.#bsorted = true;
  }

  /** Samples kept (for tests: the point of the algorithm is that this stays small). */
  get size(): number {
    return this.#len;
  }

  /** The invariant f(r, n): how much rank uncertainty a sample at rank `r` may carry. */
  #f(r: number): number {
    const n = this.#n, q = this.#q, below = this.#below, above = this.#above;
    let m = Number.MAX_VALUE;
    for (let i = 0; i < q.length; i++) {
      const f = q[i] * n <= r ? below[i] * r : above[i] * (n - r);
      if (f < m) m = f;
    }
    return m;
  }

  #sortBuf(): void {
    if (!this.#bsorted) {
      this.#buf.subarray(0, this.#blen).sort();
      this.#bsorted = true;
    }
  }

  #flush(): void {
    this.#sortBuf();
    this.#merge(this.#buf, this.#blen);
    this.#blen = 0;
    this.#bsorted = true;
  }

  /** Merges `len` sorted values into the samples, then compresses. */
  #merge(values: Float64Array, len: number): void {
    const oldLen = this.#len;
    const need = oldLen + len;
    const ov = this.#v, og = this.#g, od = this.#d;
    if (this.#sv.length < need) {
      this.#sv = new Float64Array(need * 2);
      this.#sg = new Float64Array(need * 2);
      this.#sd = new Float64Array(need * 2);
    }
    const nv = this.#sv, ng = this.#sg, nd = this.#sd;
    let i = 0, o = 0;
    // r: the rank of the insertion point, the widths of everything before it.
    let r = 0;
    for (let k = 0; k < len; k++) {
      const x = values[k];
      // Samples not above x stay before it.
      while (i < oldLen && !(ov[i] > x)) {
        nv[o] = ov[i];
        ng[o] = og[i];
        nd[o] = od[i];
        r += og[i];
        i++;
        o++;
      }
      nv[o] = x;
      ng[o] = 1;
      // At either end a new sample's rank is known exactly; inside, it is as
      // uncertain as the invariant allows there.
      nd[o] = i < oldLen ? Math.max(0, Math.floor(this.#f(r)) - 1) : 0;
      o++;
      this.#n++;
      r++;
    }
    while (i < oldLen) {
      nv[o] = ov[i];
      ng[o] = og[i];
      nd[o] = od[i];
      i++;
      o++;
    }
    this.#sv = ov;
    this.#sg = og;
    this.#sd = od;
    this.#v = nv;
    this.#g = ng;
    this.#d = nd;
    this.#len = o;
    this.#compress();
  }

  /**
   * Merges each sample into its successor while their widths and the successor's
   * delta stay within the invariant at that rank, walking from the top. Survivors are
   * written from the end of the arrays backwards, then moved to the front.
   */
  #compress(): void {
    const len = this.#len;
    if (len < 2) return;
    const v = this.#v, g = this.#g, d = this.#d;
    let o = len - 1; // where the current successor x lives
    let xg = g[o];
    let xd = d[o];
    let r = this.#n - 1 - xg;
    for (let i = len - 2; i >= 0; i--) {
      const cg = g[i];
      if (cg + xg + xd <= this.#f(r)) {
        xg += cg;
        g[o] = xg;
      } else {
        o--;
        v[o] = v[i];
        g[o] = cg;
        d[o] = d[i];
        xg = cg;
        xd = d[i];
      }
      r -= cg;
    }
    if (o > 0) {
      v.copyWithin(0, o, len);
      g.copyWithin(0, o, len);
      d.copyWithin(0, o, len);
    }
    this.#len = len - o;
  }
}
