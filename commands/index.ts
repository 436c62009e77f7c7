// Every slash command: its definition (registered at start, if the provider can serve it) and its handler.
import { readArgs, readSubcommand, type SlashCommand } from "../src/discord/command-types.ts";
import { admin, adminCommand } from "./admin.ts";
import { blend, blendCommand } from "./blend.ts";
import { describe, describeCommand } from "./describe.ts";
import { help, helpCommand } from "./help.ts";
import { imagine, imagineCommand } from "./imagine.ts";
import { info, infoCommand } from "./info.ts";
import { prefer, preferCommand } from "./prefer.ts";
import { settings, settingsCommand } from "./settings.ts";
import { show, showCommand } from "./show.ts";

export const commands: SlashCommand[] = [
  {
    definition: imagineCommand,
    startsJobs: true,
    run: (interaction, context) => imagine(interaction, readArgs(imagineCommand, interaction), context),
  },
  {
    definition: adminCommand,
    run: (interaction, context) => admin(interaction, readSubcommand(adminCommand, interaction), context),
  },
  { definition: infoCommand, run: info },
  { definition: helpCommand, run: help },
  { definition: settingsCommand, run: settings },
  {
    definition: showCommand,
    run: (interaction, context) => show(interaction, readArgs(showCommand, interaction), context),
  },
  {
    definition: preferCommand,
    run: (interaction, context) => prefer(interaction, readSubcommand(preferCommand, interaction), context),
  },
  {
    definition: blendCommand,
    requires: "blend",
    startsJobs: true,
    run: (interaction, context) => blend(interaction, readArgs(blendCommand, interaction), context),
  },
  {
    definition: describeCommand,
    requires: "describe",
    startsJobs: true,
    run: (interaction, context) => describe(interaction, readArgs(describeCommand, interaction), context),
  },
];
