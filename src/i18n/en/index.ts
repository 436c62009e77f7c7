import { commands } from "./commands.ts";
import { discord } from "./discord.ts";
import { jobs } from "./jobs.ts";
import { prompt } from "./prompt.ts";
import { team } from "./team.ts";

export const en = { commands, discord, jobs, prompt, team };
export type Catalogue = typeof en;
