// The security headers a web config may set, as exporter-toolkit's `extraHTTPHeaders`.

/**
 * The headers `http_server_config.headers` may set, and for each the values allowed
 * (undefined: any value). The list is exporter-toolkit's, kept closed on purpose so
 * that exporters in the ecosystem behave alike; values are compared exactly, as there.
 */
export const allowedHeaders: Readonly<Record<string, readonly string[] | undefined>> = {
  "Strict-Transport-Security": undefined,
  "X-Content-Type-Options": ["nosniff"],
  "X-Frame-Options": ["deny", "sameorigin"],
  "X-XSS-Protection": undefined,
  "Content-Security-Policy": undefined,
};

/**
 * Why `value` may not be set for header `name`, or undefined when it may.
 *
 * @example
 * ```ts
 * headerProblem("X-Frame-Options", "allow"); // 'invalid value "allow"; want one of "deny", "sameorigin"'
 * ```
 */
export function headerProblem(name: string, value: string): string | undefined {
  if (!Object.hasOwn(allowedHeaders, name)) {
    return `HTTP header ${JSON.stringify(name)} can not be configured; allowed: ${
      Object.keys(allowedHeaders).join(", ")
    }`;
  }
  const values = allowedHeaders[name];
  if (values && !values.includes(value)) {
    return `invalid value ${JSON.stringify(value)}; want one of ${values.map((v) => JSON.stringify(v)).join(", ")}`;
  }
  // A line break would end the header and start another one.
  if (/[\r\n\0]/.test(value)) return `invalid value ${JSON.stringify(value)}: contains a line break or NUL`;
  return undefined;
}

/**
 * `res` with `headers` set on it. A new Response, as those from fetch() and some
 * handlers have immutable headers; the body is passed on, not read.
 */
export function withHeaders(res: Response, headers: Readonly<Record<string, string>>): Response {
  const names = Object.keys(headers);
  if (names.length === 0) return res;
  const h = new Headers(res.headers);
  for (const n of names) h.set(n, headers[n]);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers: h });
}
