// What command and button handlers get: the job service, the presenter that owns job messages,
// and the settings that shape a prompt. Built once in bot.ts.
import type { PreferenceStore } from "../jobs/preferences.ts";
import type { JobService } from "../jobs/service.ts";
import type { TeamServices } from "../jobs/team.ts";
import type { Logger } from "../log.ts";
import type { Quality, Speed } from "../providers/types.ts";
import type { JobPresenter } from "./presenter.ts";

export interface BotContext {
  jobs: JobService;
  presenter: JobPresenter;
  logger: Logger;
  maxJobs: number;
  defaultSpeed: Speed;
  defaultQuality: Quality;
  /** Guild settings, admission (limits, banned words, button policy) and usage. */
  team: TeamServices;
  /** Each user's /settings and /prefer choices. */
  preferences: PreferenceStore;
  /** False while shutting down: new work is refused with a short explanation. */
  accepting(): boolean;
}
