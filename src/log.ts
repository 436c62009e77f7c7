// Logs on pino: one JSON line per record on stderr (`{"level":"info","time":…,"msg":…,…fields}`).
// A field holding an Error is written with its type, message, stack, own fields and cause chain.
// Every line passes through redaction of the configured secrets on its way out, so a key echoed
// back in a provider's error body, an error message or a stack never reaches the log.
import { type DestinationStream, pino, stdSerializers } from "pino";

export type LogLevel = "debug" | "info" | "warn" | "error";
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

/** The stream pino writes to: each finished line has every secret replaced before it leaves. */
function redactingDestination(secrets: readonly string[], write: (line: string) => void): DestinationStream {
  // A secret containing `"` or `\` appears escaped inside a JSON string; look for both forms.
  const forms = secrets
    .filter((secret) => secret.length >= 4)
    .flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1)]);
  const patterns = [...new Set(forms)].sort((a, b) => b.length - a.length);
  return {
    write(line: string) {
      let redacted = line;
      for (const pattern of patterns) redacted = redacted.replaceAll(pattern, "[redacted]");
      write(redacted);
    },
  };
}

/**
 * A logger writing JSON lines to stderr, or to `write` (one line per call, without its newline).
 * Log an error as the Error itself, conventionally under `error`: `logger.error("job crashed", { job, error })`.
 */
export function createLogger(options: {
  level: LogLevel;
  secrets?: readonly string[];
  write?: (line: string) => void;
}): Logger {
  const { write } = options;
  const destination = redactingDestination(
    options.secrets ?? [],
    write
      ? (line) => write(line.endsWith("\n") ? line.slice(0, -1) : line)
      : (line) => process.stderr.write(line),
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
