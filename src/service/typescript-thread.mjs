// A worker thread's first module. Node 20 does not carry the main thread's TypeScript loader into
// worker threads, so each registers it (tsx) before loading its TypeScript entry, a file URL in
// `workerData.typescriptEntry`.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.typescriptEntry);
