// /settings: shows the user's panel privately; a click stores the choice and redraws the panel in place.
import { type ButtonInteraction, type ChatInputCommandInteraction, MessageFlags } from "discord.js";
import { chooseSetting, settingsOffer } from "../team/preferences.ts";
import type { BotContext } from "./context.ts";
import { personalLanguage } from "./language.ts";
import { providersHere } from "./providers-here.ts";
import { replyPrivately } from "./replies.ts";
import { decodeSettingsButton, type SettingsView, settingsView } from "./settings-view.ts";

/** The panel of the person who interacted, in their language. */
async function panelFor(
  interaction: ChatInputCommandInteraction | ButtonInteraction,
  context: BotContext,
): Promise<SettingsView> {
  const userId = interaction.user.id;
  const guildId = interaction.guildId ?? undefined;
  const preferences = await context.preferences.get(userId);
  const here = await providersHere(context, userId, guildId);
  const offer = {
    ...settingsOffer(here.fallback),
    providers: [...here.named.names()],
    provider: here.fallback.name,
  };
  const defaults = { speed: context.defaultSpeed, quality: context.defaultQuality };
  return settingsView(preferences, offer, defaults, personalLanguage(interaction));
}

export async function showSettings(
  interaction: ChatInputCommandInteraction,
  context: BotContext,
): Promise<void> {
  const view = await panelFor(interaction, context);
  await interaction.reply({ ...view, flags: MessageFlags.Ephemeral });
}

export async function handleSettingsButton(
  interaction: ButtonInteraction,
  context: BotContext,
): Promise<void> {
  const choice = decodeSettingsButton(interaction.customId);
  if (!choice) {
    await replyPrivately(interaction, (t) => t("discord:settings.staleButton"));
    return;
  }
  // The clicker's own preferences: the panel is private, and a stray click can only change the clicker's.
  await context.preferences.update(interaction.user.id, (current) => chooseSetting(current, choice));
  await interaction.update(await panelFor(interaction, context));
}
