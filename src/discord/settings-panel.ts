// /settings: shows the user's panel privately; a click stores the choice and redraws the panel in place.
import { type ButtonInteraction, type ChatInputCommandInteraction, MessageFlags } from "discord.js";
import { chooseSetting, settingsOffer } from "../team/preferences.ts";
import type { BotContext } from "./context.ts";
import { providersHere } from "./providers-here.ts";
import { replyPrivately } from "./replies.ts";
import { decodeSettingsButton, type SettingsView, settingsView } from "./settings-view.ts";

async function panelFor(
  userId: string,
  guildId: string | undefined,
  context: BotContext,
): Promise<SettingsView> {
  const preferences = await context.preferences.get(userId);
  const here = await providersHere(context, userId, guildId);
  const offer = {
    ...settingsOffer(here.fallback),
    providers: [...here.named.names()],
    provider: here.fallback.name,
  };
  return settingsView(preferences, offer, { speed: context.defaultSpeed, quality: context.defaultQuality });
}

export async function showSettings(
  interaction: ChatInputCommandInteraction,
  context: BotContext,
): Promise<void> {
  const view = await panelFor(interaction.user.id, interaction.guildId ?? undefined, context);
  await interaction.reply({ ...view, flags: MessageFlags.Ephemeral });
}

export async function handleSettingsButton(
  interaction: ButtonInteraction,
  context: BotContext,
): Promise<void> {
  const choice = decodeSettingsButton(interaction.customId);
  if (!choice) {
    await replyPrivately(interaction, "This settings button is from an older Atelier. Run /settings again.");
    return;
  }
  // The clicker's own preferences: the panel is private, and a stray click can only change the clicker's.
  await context.preferences.update(interaction.user.id, (current) => chooseSetting(current, choice));
  await interaction.update(await panelFor(interaction.user.id, interaction.guildId ?? undefined, context));
}
