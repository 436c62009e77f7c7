// The team rules assembled over one store: guild settings, usage, offenders and admission, plus
// the job listener that accounts every finished job. Built once at start, shared by all handlers.

import type { JobRecord } from "../jobs/record.ts";
import type { JobListener } from "../jobs/service.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/index.ts";
import { Admission } from "./admission.ts";
import { GuildConfigStore, offenderRule } from "./guild-config.ts";
import { OffenderWatch } from "./offenders.ts";
import { createUsageLedger, type UsageLedger } from "./usage.ts";

export interface TeamServices {
  configs: GuildConfigStore;
  usage: UsageLedger;
  offenders: OffenderWatch;
  admission: Admission;
  /** Register with `JobService.listen`: records usage and refusals of finished jobs. */
  usageRecorder: JobListener;
  /** Resolves once every finished job seen so far is accounted (tests, shutdown). */
  idle(): Promise<void>;
  now: () => number;
}

export interface TeamOptions {
  store: Store;
  logger: Logger;
  now?: () => number;
}

async function recordFinished(team: TeamServices, job: JobRecord): Promise<void> {
  const counted = await team.usage.recordFinished(job, team.now());
  if (!counted || job.error?.kind !== "refused") return;
  const config = await team.configs.get(job.guildId);
  await team.offenders.recordRefusal(
    job.guildId,
    job.requesterId,
    job.finishedAt ?? team.now(),
    offenderRule(config),
  );
}

export function createTeamServices(options: TeamOptions): TeamServices {
  const now = options.now ?? Date.now;
  const configs = new GuildConfigStore(options.store);
  const usage = createUsageLedger(options.store, (error) =>
    options.logger.error("usage not saved", { error }),
  );
  const offenders = new OffenderWatch(options.store);
  const recording = new Set<Promise<void>>();
  const team: TeamServices = {
    configs,
    usage,
    offenders,
    admission: new Admission({ configs, usage, offenders, now }),
    now,
    idle: async () => {
      await Promise.all([...recording]);
      await Promise.all([usage.flushed(), offenders.flushed()]);
    },
    usageRecorder: {
      onProgress: () => undefined,
      onFinished: (job) => {
        const done = recordFinished(team, job)
          .catch((error: unknown) => options.logger.error("usage not recorded", { job: job.id, error }))
          .finally(() => recording.delete(done));
        recording.add(done);
      },
    },
  };
  return team;
}
