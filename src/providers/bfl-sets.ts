// Sets of four BFL tasks: submitting one (four creates, seeds s…s+3, stopping at the first failure),
// polling one (from the last task back: the last created is the last to finish, so one request per
// poll while the set runs), polling URLs on BFL's regional hosts, and the webhooks of a set's tasks.
import { type BflSet, type BflSubTask, decodeSetId, defaultPollingUrl, encodeSetId } from "./bfl-wire.ts";
import type { HttpClient, ProviderLogger } from "./http.ts";
import { ProviderError } from "./types.ts";

export const imagesPerSet = 4;

/** A task a create started: its id and where BFL said to poll it. */
export interface Started {
  id: string;
  pollingUrl?: string;
  cost?: number;
}

/** An error from create `done + 1` of a set, saying what had already started (and may be billed). */
export function partialSetError(error: unknown, done: number): unknown {
  if (!(error instanceof ProviderError) || done === 0) return error;
  const started = `${done} of the ${imagesPerSet} images of this set had already started and may be billed.`;
  return new ProviderError(error.kind, `${error.message} ${started}`, {
    code: error.code,
    reason: error.reason,
    maybeSubmitted: true,
    cause: error,
  });
}

/** The id of a set started from `seed`, polled at the URLs BFL gave (kept only when not the default). */
export function setIdOf(seed: number, started: readonly Started[], baseUrl: string): string {
  const tasks: BflSubTask[] = started.map(({ id, pollingUrl }) => ({
    id,
    ...(pollingUrl && pollingUrl !== defaultPollingUrl(baseUrl, id) ? { pollingUrl } : {}),
  }));
  return encodeSetId({ seed, tasks }, baseUrl);
}

export function setOf(taskId: string): BflSet {
  const set = decodeSetId(taskId);
  if (!set || set.tasks.length === 0)
    throw new ProviderError("internal", `${taskId.slice(0, 80)} is not a task of Atelier's BFL adapter.`, {
      code: "bad_task_id",
    });
  return set;
}

/** A host that shares the base's domain (api.us1.bfl.ai for api.bfl.ai), over HTTPS; IPs and short names only themselves. */
function sameService(url: URL, base: URL): boolean {
  if (url.origin === base.origin) return true;
  const labels = base.hostname.split(".");
  if (url.protocol !== "https:" || labels.length < 3 || /^[\d.]+$|:/.test(base.hostname)) return false;
  return url.hostname.endsWith(`.${labels.slice(1).join(".")}`);
}

/** Polls sub-tasks where BFL said, with one pooled client per host; the key never leaves BFL's hosts. */
export class Pollers {
  private readonly clients = new Map<string, HttpClient>();
  private readonly base: URL;

  constructor(
    private readonly main: HttpClient,
    baseUrl: string,
    private readonly makeClient: (origin: string) => HttpClient,
    private readonly logger: ProviderLogger,
  ) {
    this.base = new URL(baseUrl);
  }

  /** The client and path that poll `task`. */
  target(task: BflSubTask): { client: HttpClient; path: string } {
    const fallback = { client: this.main, path: `/v1/get_result?id=${encodeURIComponent(task.id)}` };
    if (task.pollingUrl === undefined) return fallback;
    const url = URL.canParse(task.pollingUrl, this.base.href)
      ? new URL(task.pollingUrl, this.base)
      : undefined;
    if (!url || !sameService(url, this.base)) {
      this.logger.warn("BFL: a polling URL outside BFL's hosts was ignored", { host: url?.host ?? "?" });
      return fallback;
    }
    const path = `${url.pathname}${url.search}`;
    const basePath = this.base.pathname.replace(/\/+$/, "");
    if (url.origin === this.base.origin && basePath === "") return { client: this.main, path };
    let client = this.clients.get(url.origin);
    if (!client) {
      client = this.makeClient(url.origin);
      this.clients.set(url.origin, client);
    }
    return { client, path };
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((client) => client.close()));
    this.clients.clear();
  }
}

/** What this process has heard about a set by webhook (they wake the tracker; polls stay the truth). */
interface Heard {
  taskId: string;
  samples: (string | undefined)[];
  progress: number;
}

/**
 * Which set each BFL task belongs to, learnt when a set is submitted or polled (so also after a
 * restart, from the first poll), and what webhooks said so far. Bounded: the oldest sets go first.
 */
export class SetBook {
  private readonly members = new Map<string, { heard: Heard; index: number }>();
  private readonly sets = new Map<string, Heard>();

  constructor(private readonly maxSets = 2000) {}

  register(taskId: string, set: BflSet): Heard {
    const key = taskId.split("#")[0] ?? taskId;
    let heard = this.sets.get(key);
    if (!heard) {
      heard = { taskId: key, samples: set.tasks.map(() => undefined), progress: 0 };
      this.sets.set(key, heard);
      for (const [index, task] of set.tasks.entries()) this.members.set(task.id, { heard, index });
      this.trim();
    }
    return heard;
  }

  member(subTaskId: string): { heard: Heard; index: number } | undefined {
    return this.members.get(subTaskId);
  }

  private trim(): void {
    for (const [key, heard] of this.sets) {
      if (this.sets.size <= this.maxSets) return;
      this.sets.delete(key);
      for (const [id, member] of this.members) if (member.heard === heard) this.members.delete(id);
    }
  }
}
