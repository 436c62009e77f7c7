// Run as a process of its own by thread-priority.test.ts (lowering priorities cannot be undone
// without privileges, so never in the test runner's process): two threads, one named as the HTTP
// answering thread; then every thread but that one is lowered, and each thread's name and nice value
// is printed as JSON, with the nice value the process started with.
import { readdirSync, readFileSync } from "node:fs";
import { getPriority } from "node:os";
import { Worker } from "node:worker_threads";
import { answeringThreadNames } from "../../src/service/thread-names.mjs";
import { lowerThreadsExcept } from "../../src/service/thread-priority.ts";

const names = new URL("../../src/service/thread-names.mjs", import.meta.url).href;
function startThread(name: string | undefined): Promise<Worker> {
  const naming = name ? `m.nameThisThread(${JSON.stringify(name)})` : "";
  const source = `import(${JSON.stringify(names)}).then((m) => { ${naming};
    require("node:worker_threads").parentPort.postMessage("ready"); setInterval(() => {}, 1000); });`;
  const thread = new Worker(source, { eval: true });
  return new Promise((resolve) => thread.once("message", () => resolve(thread)));
}

const startedAt = getPriority(0);
const threads = [await startThread(answeringThreadNames.http), await startThread(undefined)];
lowerThreadsExcept(Object.values(answeringThreadNames), 10);
const seen = readdirSync("/proc/self/task").map((id) => ({
  name: readFileSync(`/proc/self/task/${id}/comm`, "utf8").trim(),
  nice: getPriority(Number(id)),
}));
process.stdout.write(JSON.stringify({ startedAt, seen }));
await Promise.all(threads.map((thread) => thread.terminate()));
