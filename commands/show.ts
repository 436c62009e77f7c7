// /show job:<id>: posts one of your finished jobs again here, with working buttons.
import { ApplicationCommandOptionType, type ChatInputCommandInteraction } from "discord.js";
import type { CommandArgs, CommandDefinition } from "../src/discord/command-types.ts";
import type { BotContext } from "../src/discord/context.ts";
import { showJob } from "../src/discord/show-job.ts";

export const showCommand = {
  name: "show",
  description: "Post a finished job again, with its buttons (ids are in /info)",
  options: [
    {
      type: ApplicationCommandOptionType.String,
      name: "job",
      description: "The job id, as /info lists it",
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
