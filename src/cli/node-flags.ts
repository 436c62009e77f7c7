// Node options for a process of a shared deployment (REDIS_URL, several processes): V8 reads them
// only when it sets up the heap, so `atelier start` cannot set them itself as it sets the others
// (src/cli/start.ts), and Node refuses them in NODE_OPTIONS. compose.replicas.yaml puts them on each
// replica's command line (test/compose.test.ts holds it to this list), as does the benchmark.

/**
 * `--no-memory-reducer`: V8's memory reducer starts extra full collections whenever a process's
 * allocation rate drops, to hand memory back. Processes that share the work look like that far
 * more often than one doing all of it. Measured with three processes on Redis at 4 /imagine/s
 * (bench/bot.ts scenario 2, five runs each, interleaved): the bot's own threads took 36.6–41.5 ms
 * of CPU a job without it against 45.2–52.1 with it (setting it from inside the process made no
 * difference: 41.2–49.6). Peak memory with 1,000 jobs in flight stayed about where it was (316 MB
 * against 303–311, one run). Not for one process (`npm start`, the image's default), whose memory
 * has a target: with it, one run of scenario 3 peaked at 310 MB against 277 without (that run
 * overlapped another benchmark for a minute, so it is a warning, not a measurement).
 */
export const sharedDeploymentNodeFlags = ["--no-memory-reducer"] as const;
