// /settings: a private panel of the user's defaults for /imagine (model, stylize, raw, speed,
// quality, variation strength, remix), changed by clicking.
import type { ChatInputCommandInteraction } from "discord.js";
import { commandText } from "../src/discord/command-text.ts";
import type { CommandDefinition } from "../src/discord/command-types.ts";
import type { BotContext } from "../src/discord/context.ts";
import { showSettings } from "../src/discord/settings-panel.ts";

export const settingsCommand = {
  name: "settings",
  ...commandText("commands:settings"),
} as const satisfies CommandDefinition;

export function settings(interaction: ChatInputCommandInteraction, context: BotContext): Promise<void> {
  return showSettings(interaction, context);
}
