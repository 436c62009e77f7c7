// Worker threads that run TypeScript modules (see typescript-thread.mjs).
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { LogFields, Logger, LogLevel } from "../log.ts";

/** The file a thread starts from; it loads the TypeScript module named in `workerData.typescriptEntry`. */
const typescriptThreadPath = fileURLToPath(new URL("./typescript-thread.mjs", import.meta.url));

/** Starts `entry` (a .ts module URL) in a worker thread; it reads `settings` from `workerData.settings`. */
export function startTypeScriptThread(entry: URL, settings: unknown): Worker {
  return new Worker(typescriptThreadPath, { workerData: { typescriptEntry: entry.href, settings } });
}

/** A log line made in a thread, written by the main thread's logger. */
export interface ThreadLogLine {
  level: LogLevel;
  message: string;
  fields?: LogFields;
}

/** A thread's logger: each line goes to the main thread through `send`. */
export function threadLogger(send: (line: ThreadLogLine) => void): Logger {
  const at = (level: LogLevel) => (message: string, fields?: LogFields) => {
    try {
      send({ level, message, fields });
    } catch {
      // A field that cannot cross threads: the line still goes, without its fields.
      send({ level, message });
    }
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
