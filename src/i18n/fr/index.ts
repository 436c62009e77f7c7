import type { Catalogue } from "../en/index.ts";
import type { Translation } from "../types.ts";
import { commands } from "./commands.ts";
import { discord } from "./discord.ts";
import { jobs } from "./jobs.ts";
import { prompt } from "./prompt.ts";
import { team } from "./team.ts";

export const fr: Translation<Catalogue> = { commands, discord, jobs, prompt, team };
