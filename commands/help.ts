// /help: how to use Atelier here and the prompt parameters it understands, privately.
import type { ChatInputCommandInteraction } from "discord.js";
import { commandText } from "../src/discord/command-text.ts";
import type { CommandDefinition } from "../src/discord/command-types.ts";
import type { BotContext } from "../src/discord/context.ts";
import { helpText } from "../src/discord/help-view.ts";
import { replyPrivately } from "../src/discord/replies.ts";

export const helpCommand = {
  name: "help",
  ...commandText("commands:help"),
} as const satisfies CommandDefinition;

export async function help(interaction: ChatInputCommandInteraction, context: BotContext): Promise<void> {
  await replyPrivately(interaction, (_t, language) => helpText(context.providers.names(), language));
}
