// Thread priorities inside the bot's process (Linux keeps a nice value per thread).
import { readdirSync, readFileSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

/**
 * Raises the nice value of every thread of this process to at least `niceness`, except those
 * named in `spared` (see thread-names.mjs): the bot's thread, V8's helper threads and libuv's pool
 * then yield the CPU to the threads that answer interactions. Without /proc (not Linux) the
 * calling thread is lowered, which elsewhere means the whole process. Threads started later take
 * the nice value of the thread that starts them.
 */
export function lowerThreadsExcept(spared: readonly string[], niceness: number): void {
  const ids = threadIds();
  if (!ids) {
    lower(0, niceness);
    return;
  }
  for (const id of ids) {
    if (spared.includes(threadName(id))) continue;
    try {
      lower(id, niceness);
    } catch (error) {
      // A thread that ended since the listing has no priority left to change.
      if ((error as { info?: { code?: string } }).info?.code !== "ESRCH") throw error;
    }
  }
}

function lower(threadId: number, niceness: number): void {
  setPriority(threadId, Math.max(getPriority(threadId), niceness));
}

function threadIds(): number[] | undefined {
  try {
    return readdirSync("/proc/self/task").map(Number);
  } catch {
    return undefined;
  }
}

function threadName(threadId: number): string {
  try {
    return readFileSync(`/proc/self/task/${threadId}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}
