// Every slash command: its definition (registered at start) and its handler.
import { readArgs, type SlashCommand } from "../src/discord/command-types.ts";
import { imagine, imagineCommand } from "./imagine.ts";

export const commands: SlashCommand[] = [
  {
    definition: imagineCommand,
    run: (interaction, context) => imagine(interaction, readArgs(imagineCommand, interaction), context),
  },
];
