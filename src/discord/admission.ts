// The Discord side of admission: who is asking, where, with which roles; and the ephemeral
// explanation when a rule refuses (naming the rule, and when it lifts).
import {
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  GuildMember,
  type ModalSubmitInteraction,
} from "discord.js";
import { type Language, translator } from "../i18n/index.ts";
import type { Refusal } from "../team/admission.ts";
import type { GuildConfig } from "../team/guild-config.ts";
import type { BotContext } from "./context.ts";
import { replyPrivately } from "./replies.ts";

type AskingInteraction = ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction;

export interface AdmissionAsk {
  promptText: string;
  jobCount: number;
  /** For buttons: who asked for the job the button belongs to. */
  jobOwnerId?: string;
  /** The server's settings, when the caller has read them for this ask already. */
  guildConfig?: GuildConfig;
}

/** Role ids from a cached member, or from the raw member when discord.js could not cache it. */
export function memberRoleIds(interaction: AskingInteraction): string[] {
  const member = interaction.member;
  if (!member) return [];
  if (member instanceof GuildMember) return [...member.roles.cache.keys()];
  return [...member.roles];
}

/** The channel, plus its parent for a thread: allowing a channel allows its threads. */
function channelIds(interaction: AskingInteraction): string[] {
  const channel = interaction.channel;
  const parentId = channel?.isThread() ? channel.parentId : null;
  return [interaction.channelId, parentId].filter((id): id is string => typeof id === "string");
}

const at = (time: number, style: "R" | "t" | "f") => `<t:${Math.floor(time / 1000)}:${style}>`;

/** " (this would add 3)" when an ask of several jobs crosses a daily limit. */
function adding(requested: number, language: Language): string {
  return requested > 1 ? translator(language)("discord:refusal.adding", { count: requested }) : "";
}

/** Why a rule refused, naming the rule and when it lifts, in `language`. */
export function refusalReply(refusal: Refusal, language: Language = "en"): string {
  const t = translator(language);
  switch (refusal.rule) {
    case "channel":
      return t("discord:refusal.channel", {
        channels: refusal.allowedChannelIds.map((id) => `<#${id}>`).join(", "),
      });
    case "buttons":
      return refusal.policy === "owner"
        ? t("discord:refusal.buttonsOwner")
        : t("discord:refusal.buttonsRoles", {
            roles: refusal.roleIds.map((id) => `<@&${id}>`).join(", ") || t("discord:refusal.anAllowedRole"),
          });
    case "offender":
      return t("discord:refusal.offender", {
        relative: at(refusal.until, "R"),
        time: at(refusal.until, "t"),
      });
    case "banned":
      return t("discord:refusal.banned", { term: refusal.term.replaceAll("`", "ˋ") });
    case "cooldown":
      return t("discord:refusal.cooldown", { seconds: refusal.seconds, relative: at(refusal.until, "R") });
    case "userDaily":
    case "guildDaily":
      return t(`discord:refusal.${refusal.rule}`, {
        limit: refusal.limit,
        used: refusal.used,
        adding: adding(refusal.requested, language),
        relative: at(refusal.resetsAt, "R"),
        date: at(refusal.resetsAt, "f"),
      });
  }
}

/**
 * Runs admission for the jobs an interaction is about to start. When refused, answers the user
 * privately and returns false; when admitted, the jobs are already counted and it returns true.
 * `precheck` asks only the rules that count nothing (before a remix form, which is admitted on submit).
 */
export async function admitOrExplain(
  interaction: AskingInteraction,
  context: BotContext,
  ask: AdmissionAsk,
  mode: "admit" | "precheck" = "admit",
): Promise<boolean> {
  const request = {
    userId: interaction.user.id,
    guildId: interaction.guildId ?? undefined,
    channelIds: channelIds(interaction),
    roleIds: memberRoleIds(interaction),
    ...ask,
  };
  const verdict =
    mode === "admit"
      ? await context.team.admission.admit(request)
      : await context.team.admission.precheck(request);
  if (verdict.ok) return true;
  await replyPrivately(interaction, (_t, language) => refusalReply(verdict.refusal, language));
  return false;
}
