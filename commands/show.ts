// /show job:<id>: posts one of your finished jobs again here, with working buttons.
import { ApplicationCommandOptionType, type ChatInputCommandInteraction } from "discord.js";
import { commandText } from "../src/discord/command-text.ts";
import type { CommandArgs, CommandDefinition } from "../src/discord/command-types.ts";
import type { BotContext } from "../src/discord/context.ts";
import { showJob } from "../src/discord/show-job.ts";

export const showCommand = {
  name: "show",
  ...commandText("commands:show"),
  options: [
    {
      type: ApplicationCommandOptionType.String,
      name: "job",
      ...commandText("commands:show.job"),
      required: true,
      max_length: 64,
    },
  ],
} as const satisfies CommandDefinition;

export async function show(
  interaction: ChatInputCommandInteraction,
  args: CommandArgs<typeof showCommand>,
  context: BotContext,
): Promise<void> {
  await showJob(interaction, args.job, context);
}
