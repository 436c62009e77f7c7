// Logs on pino, on stderr: one JSON line per record (`{"level":"info","time":…,"msg":…,…fields}`),
// or, with LOG_FORMAT=pretty (the default when stderr is a terminal), readable lines from pino-pretty.
// A field holding an Error is written with its type, message, stack, own fields and cause chain.
// Every record passes through redaction of the configured secrets as a JSON line, before it is
// formatted and written, so a key echoed back in a provider's error body, an error message or a
// stack never reaches the log in either format.
import { createRequire } from "node:module";
import { type DestinationStream, pino, stdSerializers } from "pino";

export const logLevels = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof logLevels)[number];
export const logFormats = ["json", "pretty"] as const;
export type LogFormat = (typeof logFormats)[number];
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** How deep inside a field's value Errors and binary data are looked for. */
const maxDepth = 8;

/** An Error as data: pino's serializer (type, message, stack, own fields, Error causes) plus a cause that is not an Error. */
function errorData(error: Error): Record<string, unknown> {
  const data: Record<string, unknown> = stdSerializers.errWithCause(error);
  if (data.cause === undefined && error.cause !== undefined) data.cause = error.cause;
  return data;
}

/**
 * A field's value ready for JSON: Errors (at any depth, e.g. a cause or a list of failures)
 * become data, and bytes (an image in a failed request's body) become their length.
 */
function loggable(value: unknown, depth = 0): unknown {
  if (value instanceof Error) return loggable(errorData(value), depth);
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (depth >= maxDepth || typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => loggable(item, depth + 1));
  // Plain objects and serialized errors only; class instances keep their own JSON form.
  if (value.constructor !== Object && Object.getPrototypeOf(value) !== null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, loggable(item, depth + 1)]));
}

/** Replaces every secret in a JSON line; a secret containing `"` or `\` appears escaped there, so both forms are sought. */
function redactor(secrets: readonly string[]): (line: string) => string {
  const forms = secrets
    .filter((secret) => secret.length >= 4)
    .flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1)]);
  const patterns = [...new Set(forms)].sort((a, b) => b.length - a.length);
  return (line) => {
    let redacted = line;
    for (const pattern of patterns) redacted = redacted.replaceAll(pattern, "[redacted]");
    return redacted;
  };
}

/** Readable text for a (redacted) JSON line: time, level, message, then the fields and stacks below it. */
function prettifier(colorize: boolean): (line: string) => string {
  // Loaded only for this format: a service logging JSON never needs it.
  const { prettyFactory } = createRequire(import.meta.url)("pino-pretty") as typeof import("pino-pretty");
  return prettyFactory({ colorize, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" });
}

/** Pretty when a person is watching stderr, JSON lines for whatever collects logs. */
export function defaultLogFormat(stream: { isTTY?: boolean } = process.stderr): LogFormat {
  return stream.isTTY ? "pretty" : "json";
}

/**
 * The stream pino writes to: each finished JSON line has every secret replaced, and only then is
 * turned into the chosen format and written. Redaction is the one path every record takes.
 */
function redactingDestination(
  secrets: readonly string[],
  format: (line: string) => string,
  write: (text: string) => void,
): DestinationStream {
  const redact = redactor(secrets);
  return { write: (line: string) => write(format(redact(line))) };
}

/**
 * A logger writing to stderr, or to `write` (one record per call, without its final newline), as
 * JSON lines or pretty text (`format`; default: pretty when stderr is a terminal and `write` is not
 * given, else JSON). Log an error as the Error itself, conventionally under `error`:
 * `logger.error("job crashed", { job, error })`.
 */
export function createLogger(options: {
  level: LogLevel;
  format?: LogFormat;
  secrets?: readonly string[];
  write?: (line: string) => void;
}): Logger {
  const { write } = options;
  const format = options.format ?? (write ? "json" : defaultLogFormat());
  const colorize = !write && process.stderr.isTTY === true;
  const destination = redactingDestination(
    options.secrets ?? [],
    format === "pretty" ? prettifier(colorize) : (line) => line,
    write
      ? (text) => write(text.endsWith("\n") ? text.slice(0, -1) : text)
      : (text) => process.stderr.write(text),
  );
  const logger = pino(
    {
      level: options.level,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => loggable(fields) as LogFields,
      },
      // Errors are already data (see `loggable`); pino's own `err` serializer would wrap them again.
      serializers: { err: (value: unknown) => value },
    },
    destination,
  );
  return {
    debug: (message, fields) => logger.debug(fields ?? {}, message),
    info: (message, fields) => logger.info(fields ?? {}, message),
    warn: (message, fields) => logger.warn(fields ?? {}, message),
    error: (message, fields) => logger.error(fields ?? {}, message),
  };
}
