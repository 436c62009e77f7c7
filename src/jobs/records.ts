// Where job records live: created once, read, and changed only through `update` (fields that are
// not the state) or `transition` (the state machine in record.ts). Changes of one record are
// serialized within a process by a promise chain, and across processes sharing Redis each is a
// compare-and-set (store/shared-repository.ts), so concurrent updates (a cancel in one process,
// progress in another) never lose each other.
import { type IdList, idList, type Repository, type Store, sharedRepository } from "../store/index.ts";
import { KeyedSerializer } from "../store/serial.ts";
import {
  canTransition,
  isFinished,
  type JobRecord,
  type JobState,
  jobRecordSchema,
  newJobId,
} from "./record.ts";

/** What a creator decides about a new job; identity, state and timestamps are filled in here. */
export type NewJobFields = Omit<
  JobRecord,
  "id" | "state" | "delivered" | "imageUrls" | "pressed" | "providerWarnings" | "createdAt" | "updatedAt"
> &
  Partial<Pick<JobRecord, "providerWarnings">>;

/** How many of a person's latest jobs /info lists and /show finds by id. */
const recentPerPerson = 20;

/** Fields other than the state and the delivered flag, which have their own verbs. */
export type JobChange = Partial<Omit<JobRecord, "id" | "state" | "delivered">>;

export class JobRecords {
  private readonly jobs: Repository<typeof jobRecordSchema>;
  /** Ids of jobs not yet delivered, in creation order: what a restart must pick up. */
  private readonly open: IdList;
  private readonly serial = new KeyedSerializer();
  private readonly recentLists = new Map<string, IdList>();

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {
    this.jobs = sharedRepository(store, "job", jobRecordSchema);
    this.open = idList(store, "jobs:open");
  }

  async create(fields: NewJobFields): Promise<JobRecord> {
    const job = this.build(fields);
    await this.insert(job);
    return job;
  }

  /** A new job's record, not written yet: its id is known, so the queue can take it meanwhile. */
  build(fields: NewJobFields): JobRecord {
    const now = this.now();
    return jobRecordSchema.parse({
      providerWarnings: [],
      ...fields,
      id: newJobId(),
      state: "queued",
      delivered: false,
      imageUrls: [],
      pressed: [],
      createdAt: now,
      updatedAt: now,
    }) as JobRecord;
  }

  /** Writes a record from `build`, with the lists that find it (together: the reply to /imagine waits). */
  async insert(job: JobRecord): Promise<void> {
    await Promise.all([
      this.jobs.set(job.id, job),
      this.open.add(job.id),
      this.recentList(job.requesterId).addKeepingLast(job.id, recentPerPerson),
    ]);
  }

  /** A person's latest jobs, newest first (at most 20 are remembered): for /info. */
  async recentOf(requesterId: string, count: number): Promise<JobRecord[]> {
    const ids = (await this.recentList(requesterId).all()).slice(-count).reverse();
    const records = await this.jobs.getMany(ids);
    return ids.flatMap((id) => records.get(id) ?? []);
  }

  /** One id list per person, so that person's concurrent creates are batched, never lost. */
  private recentList(requesterId: string): IdList {
    let list = this.recentLists.get(requesterId);
    if (!list) {
      list = idList(this.store, `jobs:recent:${requesterId}`);
      this.recentLists.set(requesterId, list);
    }
    return list;
  }

  get(id: string): Promise<JobRecord | undefined> {
    return this.jobs.get(id);
  }

  /** Every job not yet delivered, in creation order; ids whose record is gone are dropped from the list. */
  async openJobs(): Promise<JobRecord[]> {
    const ids = await this.open.all();
    const records = await this.jobs.getMany(ids);
    const found: JobRecord[] = [];
    for (const id of ids) {
      const job = records.get(id);
      if (job && !job.delivered) found.push(job);
      // Gone, or delivered by a process that died before taking it off this list (markDelivered).
      else await this.open.remove(id);
    }
    return found;
  }

  /** One user's shown jobs that have not finished (waiting or running), oldest first: for /info. */
  async openJobsOf(requesterId: string): Promise<JobRecord[]> {
    return (await this.openJobs()).filter(
      (job) => job.requesterId === requesterId && job.launchedAt !== undefined && !isFinished(job),
    );
  }

  /** Changes fields other than the state; undefined when the record is gone. */
  update(id: string, change: JobChange | ((job: JobRecord) => JobChange)): Promise<JobRecord | undefined> {
    return this.write(id, (job) => (typeof change === "function" ? change(job) : change));
  }

  /**
   * Moves the job to `to` with `fields`, if the state machine allows it from where the job is now;
   * otherwise leaves it alone and returns undefined (someone else moved it first).
   */
  transition(
    id: string,
    to: JobState,
    fields: JobChange | ((job: JobRecord) => JobChange) = {},
  ): Promise<JobRecord | undefined> {
    return this.write(id, (job) => {
      if (!canTransition(job.state, to)) return undefined;
      return { ...(typeof fields === "function" ? fields(job) : fields), state: to };
    });
  }

  /** The user has the result (or the error), or there is nobody to show it to: the job leaves the open list. */
  async markDelivered(id: string): Promise<JobRecord | undefined> {
    const job = await this.write(id, () => ({ delivered: true }));
    await this.open.remove(id);
    return job;
  }

  private write(
    id: string,
    change: (job: JobRecord) => Partial<JobRecord> | undefined,
  ): Promise<JobRecord | undefined> {
    return this.serial.run(id, () =>
      this.jobs.update(id, (job) => {
        // Gone: an update never brings a job back.
        if (!job) return undefined;
        const fields = change(job);
        return fields === undefined ? undefined : { ...job, ...fields, updatedAt: this.now() };
      }),
    );
  }
}
