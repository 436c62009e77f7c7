import type { discord as english } from "../en/discord.ts";
import type { Translation } from "../types.ts";

export const discord: Translation<typeof english> = {
  status: {
    waiting: "Wartet auf den Start",
  },
};
