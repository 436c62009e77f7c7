// Routes each interaction to its handler. A handler that fails still leaves the user an answer.
import type { Interaction } from "discord.js";
import { jobMessageText } from "../i18n/errors.ts";
import type { Translate } from "../i18n/index.ts";
import { handleButton } from "./buttons.ts";
import { type SlashCommand, servingProvider } from "./command-types.ts";
import type { BotContext } from "./context.ts";
import { isRemixForm } from "./remix-modal.ts";
import { handleRemixSubmit } from "./remix-submit.ts";
import { replyPrivately, restartingReply, unsupportedCommandReply } from "./replies.ts";
import { handleSettingsButton } from "./settings-panel.ts";
import { isSettingsButton } from "./settings-view.ts";

const failureReply = (t: Translate) => t("discord:reply.failure");

export function createRouter(commands: readonly SlashCommand[], context: BotContext) {
  const byName = new Map(commands.map((command) => [command.definition.name, command]));
  return async function route(interaction: Interaction): Promise<void> {
    try {
      // Redis (shared by several processes) is away: say so at once rather than wait on it.
      const paused = context.jobs.pausedBecause();
      if (paused !== undefined && interaction.isRepliable())
        return replyPrivately(interaction, (t) => jobMessageText(paused, t));
      if (interaction.isChatInputCommand()) {
        const command = byName.get(interaction.commandName);
        if (!command) return;
        if (!context.accepting()) return replyPrivately(interaction, restartingReply);
        // An interaction from before a provider change, while Discord still lists the old command.
        const configured = context.providers.names().map((name) => context.providers.get(name));
        if (!servingProvider(command, configured))
          return replyPrivately(
            interaction,
            unsupportedCommandReply(command.definition.name, context.providers.names().join(", ")),
          );
        await command.run(interaction, context);
      } else if (interaction.isButton() && isSettingsButton(interaction.customId)) {
        await handleSettingsButton(interaction, context);
      } else if (interaction.isButton()) {
        await handleButton(interaction, context);
      } else if (interaction.isModalSubmit() && isRemixForm(interaction.customId)) {
        await handleRemixSubmit(interaction, context);
      }
    } catch (error) {
      context.logger.error("interaction failed", { kind: interaction.type, error });
      if (interaction.isRepliable()) await replyPrivately(interaction, failureReply).catch(() => undefined);
    }
  };
}
