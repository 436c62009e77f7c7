import { discord } from "./discord.ts";

export const en = { discord };
export type Catalogue = typeof en;
