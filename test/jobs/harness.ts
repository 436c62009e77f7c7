// One harness for job service tests: a service over a real embedded store in a temporary folder,
// a listener that records what users would be shown, and clean-up of everything opened.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JobRecord } from "../../src/jobs/record.ts";
import { type JobListener, JobService, type JobServiceOptions } from "../../src/jobs/service.ts";
import { silentLogger } from "../../src/log.ts";
import type { ImageProvider } from "../../src/providers/types.ts";
import { openStore, type Store } from "../../src/store/index.ts";

/** Every progress update and every finished job, in order; waits for a number of finished jobs. */
export class Recorder implements JobListener {
  progress: JobRecord[] = [];
  finished: JobRecord[] = [];

  onProgress(job: JobRecord) {
    this.progress.push(job);
  }

  onFinished(job: JobRecord) {
    this.finished.push(job);
  }

  async finishedCount(count: number, timeoutMs = 10_000): Promise<JobRecord[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.finished.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${this.finished.length} of ${count} jobs finished`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.finished;
  }
}

export interface OpenService<P extends ImageProvider> {
  store: Store;
  jobs: JobService;
  provider: P;
  recorder: Recorder;
}

type ServiceSettings = Partial<Omit<JobServiceOptions, "store" | "providers" | "defaultProvider">>;

/** Services over one data folder; a second `open` on it is the same bot after a restart. */
export class JobsHarness<P extends ImageProvider> {
  readonly dataDir = mkdtempSync(join(tmpdir(), "atelier-jobs-"));
  private readonly opened: OpenService<P>[] = [];

  constructor(private readonly makeProvider: () => P) {}

  async open(settings: ServiceSettings = {}): Promise<OpenService<P>> {
    const store = await openStore({ dataDir: this.dataDir });
    const provider = this.makeProvider();
    const jobs = new JobService({
      pollIntervalMs: 30,
      logger: silentLogger,
      ...settings,
      store,
      providers: new Map([[provider.name, provider]]),
      defaultProvider: provider.name,
    });
    const recorder = new Recorder();
    jobs.listen(recorder);
    const entry = { store, jobs, provider, recorder };
    this.opened.push(entry);
    return entry;
  }

  /** Stops a service as a shutdown would: its running jobs stay `running` in the store. */
  async close(entry: OpenService<P>): Promise<void> {
    await entry.jobs.stop();
    await entry.provider.close?.();
    await entry.store.close();
    this.opened.splice(this.opened.indexOf(entry), 1);
  }

  async dispose(): Promise<void> {
    for (const entry of [...this.opened]) await this.close(entry);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
