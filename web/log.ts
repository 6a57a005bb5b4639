/** Log levels in increasing severity, as go-kit's and slog's. */
export const levels = ["debug", "info", "warn", "error"] as const;
/** A log level name. */
export type Level = (typeof levels)[number];
/** The line formats: logfmt (the default) or JSON. */
export type LogFormat = "logfmt" | "json";

/** A structured logger: one line per call, with a message and key/value fields. */
export interface Logger {
  /** Logs at debug level: what only someone chasing a problem needs. */
  debug(msg: string, fields?: Record<string, unknown>): void;
  /** Logs at info level: what the exporter does in normal operation. */
  info(msg: string, fields?: Record<string, unknown>): void;
  /** Logs at warn level: something an operator should look at. */
  warn(msg: string, fields?: Record<string, unknown>): void;
  /** Logs at error level: something failed. */
  error(msg: string, fields?: Record<string, unknown>): void;
  /**
   * A logger that adds `fields` to every line, before the call's own, as go-kit's
   * `log.With` and slog's `Logger.With`: `logger.with({ collector: "foo" })`.
   */
  with(fields: Record<string, unknown>): Logger;
}

function logfmtValue(v: unknown): string {
  const s = v instanceof Error ? v.message : typeof v === "string" ? v : JSON.stringify(v) ?? String(v);
  return /^[^\s"=\\]+$/.test(s) ? s : JSON.stringify(s);
}

/**
 * Returns a logger writing to `write` (stderr by default) lines at or above `level`,
 * as `ts=… level=info msg="…" key=value` or one JSON object a line.
 */
export function newLogger(
  level: Level = "info",
  format: LogFormat = "logfmt",
  write: (line: string) => void = (l) => console.error(l),
): Logger {
  return withFields(level, format, write, {});
}

function withFields(
  level: Level,
  format: LogFormat,
  write: (line: string) => void,
  base: Record<string, unknown>,
): Logger {
  const min = levels.indexOf(level);
  const line = (lvl: Level, msg: string, own: Record<string, unknown> = {}) => {
    if (levels.indexOf(lvl) < min) return;
    const fields = { ...base, ...own };
    const ts = new Date().toISOString();
    if (format === "json") {
      const f = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v instanceof Error ? v.message : v]));
      write(JSON.stringify({ ts, level: lvl, msg, ...f }));
    } else {
      const kv = Object.entries(fields).map(([k, v]) => ` ${k}=${logfmtValue(v)}`).join("");
      write(`ts=${ts} level=${lvl} msg=${logfmtValue(msg)}${kv}`);
    }
  };
  return {
    debug: (m, f) => line("debug", m, f),
    info: (m, f) => line("info", m, f),
    warn: (m, f) => line("warn", m, f),
    error: (m, f) => line("error", m, f),
    with: (f) => withFields(level, format, write, { ...base, ...f }),
  };
}
