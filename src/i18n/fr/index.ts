import type { Catalogue } from "../en/index.ts";
import type { Translation } from "../types.ts";
import { discord } from "./discord.ts";

export const fr: Translation<Catalogue> = { discord };
