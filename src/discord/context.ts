// What command and button handlers get: the job service, the presenter that owns job messages,
// and the settings that shape a prompt. Built once in bot.ts.

import type { NamedProviders } from "../jobs/pipeline.ts";
import type { JobService } from "../jobs/service.ts";
import type { Logger } from "../log.ts";
import type { Quality, Speed } from "../providers/types.ts";
import type { PreferenceStore } from "../team/preferences.ts";
import type { TeamServices } from "../team/team.ts";
import type { JobPresenter } from "./presenter.ts";

/** What handlers may do with jobs: read them, start them (start-jobs.ts), cancel, highlight buttons. */
export type HandlerJobs = Pick<
  JobService,
  | "get"
  | "create"
  | "shown"
  | "discard"
  | "canQueue"
  | "cancel"
  | "markPressed"
  | "provider"
  | "defaultProvider"
  | "openJobsOf"
  | "pausedBecause"
  | "recentJobsOf"
>;

export interface BotContext {
  jobs: HandlerJobs;
  /** Every configured image service by name (the registry). */
  providers: NamedProviders;
  presenter: JobPresenter;
  logger: Logger;
  maxJobs: number;
  defaultSpeed: Speed;
  defaultQuality: Quality;
  /** Origins whose image links are accepted over http or on a private address (the download policy's). */
  trustedImageOrigins: readonly string[];
  /** Guild settings, admission (limits, banned words, button policy) and usage. */
  team: TeamServices;
  /** Each user's /settings and /prefer choices. */
  preferences: PreferenceStore;
  /** Job commands answer "thinking…" before the store is asked (BotOptions.thinkFirst). */
  thinkFirst: boolean;
  /** False while shutting down: new work is refused with a short explanation. */
  accepting(): boolean;
}
