// What instrument_server.ts and instrument_client.ts share: which of `code` and
// `method` a vector is partitioned by, and their values, sanitised as client_golang's.
import type { Labels } from "../prometheus/desc.ts";
import type { MetricVec, VecChild } from "../prometheus/vec.ts";

/** Options of the instrumenting wrappers, as Go's `promhttp.Option`s. */
export interface InstrumentOpts {
  /**
   * Methods besides the standard ones (GET, PUT, HEAD, POST, DELETE, CONNECT, OPTIONS,
   * NOTIFY, TRACE, PATCH) kept as `method` label values, lowercased; any other method
   * is `unknown`, so that a client cannot make up series. Go's `WithExtraMethods`.
   */
  readonly extraMethods?: readonly string[];
  /**
   * Exemplar labels for a request (a trace ID, say), or undefined for none, as Go's
   * `WithExemplarFromContext`.
   */
  readonly getExemplar?: (req: Request) => Labels | undefined;
}

/**
 * The standard methods in upper and lower case, each to its lower case; made at the
 * first request rather than when the module loads (which --version does too), as are
 * the codes below.
 */
let standardMethods: Readonly<Record<string, string>> | undefined;

function methods(): Readonly<Record<string, string>> {
  if (standardMethods) return standardMethods;
  const m: Record<string, string> = {};
  for (const name of ["GET", "PUT", "HEAD", "POST", "DELETE", "CONNECT", "OPTIONS", "NOTIFY", "TRACE", "PATCH"]) {
    m[name] = m[name.toLowerCase()] = name.toLowerCase();
  }
  return standardMethods = Object.freeze(m);
}

/**
 * The `method` label value: a standard method in upper or lower case (not mixed, as
 * Go's), or one of `extra` in any case, lowercased; otherwise `unknown`.
 */
export function sanitizeMethod(m: string, extra: readonly string[] | undefined): string {
  const standard = methods();
  if (Object.hasOwn(standard, m)) return standard[m];
  if (extra) {
    const lower = m.toLowerCase();
    for (const e of extra) if (e.toLowerCase() === lower) return lower;
  }
  return "unknown";
}

/** "0" … "599", made at the first use: a request's code label costs no string. */
let codes: readonly string[] | undefined;

/** The `code` label value: 0 is 200 (nothing set), 100–599 as they are, else `unknown`, as Go's. */
export function sanitizeCode(status: number): string {
  if (status === 0) return "200";
  if (!(status >= 100 && status <= 599 && Number.isInteger(status))) return "unknown";
  if (!codes) {
    const c: string[] = [];
    for (let i = 0; i < 600; i++) c.push(String(i));
    codes = c;
  }
  return codes[status];
}

/**
 * How a vector is partitioned: `order` lists the labels its `withLabelValues` takes
 * (its variable labels not curried), each `code` or `method`. Throws, as Go panics,
 * when it has any other.
 */
export interface Partition {
  readonly order: readonly ("code" | "method")[];
}

export function checkLabels(vec: MetricVec<VecChild>, what: string): Partition {
  const order: ("code" | "method")[] = [];
  for (const name of vec.desc.variableLabels) {
    // A curried label is fixed: the vector takes no value for it (Go checks the same way).
    if (vec.curryWith({ [name]: "dummy" }).error) continue;
    if (name !== "code" && name !== "method") {
      throw new Error(
        `${what}: metric ${JSON.stringify(vec.desc.fqName)} partitioned with non-supported label ${
          JSON.stringify(name)
        } (only "code" and "method" may be left uncurried)`,
      );
    }
    order.push(name);
  }
  return { order };
}

/** The child of `vec` for this code and method, without building a label object. */
export function childFor<M extends VecChild>(vec: MetricVec<M>, p: Partition, code: string, method: string): M {
  const o = p.order;
  if (o.length === 0) return vec.withLabelValues();
  const a = o[0] === "code" ? code : method;
  if (o.length === 1) return vec.withLabelValues(a);
  return vec.withLabelValues(a, o[1] === "code" ? code : method);
}
