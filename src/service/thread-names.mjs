// @ts-check
// Names of the threads that answer interactions, as the OS shows them (`top -H`, /proc/PID/task):
// the bot lowers the priority of every other thread of its process by these names
// (src/service/thread-priority.ts). Plain JavaScript: the gateway thread runs without a
// TypeScript loader and names itself too.
import { writeFileSync } from "node:fs";

/** At most 15 characters (the kernel's limit for a thread name). */
export const answeringThreadNames = Object.freeze({ http: "atelier-http", gateway: "atelier-gateway" });

/**
 * Names the calling thread. Linux only; elsewhere (no /proc) the thread keeps its name.
 * @param {string} name
 */
export function nameThisThread(name) {
  try {
    writeFileSync("/proc/thread-self/comm", name);
  } catch {
    // Not Linux: nothing is lowered by name there either.
  }
}
