// The Discord side of admission: who is asking, where, with which roles; and the ephemeral
// explanation when a rule refuses (naming the rule, and when it lifts).
import {
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  GuildMember,
  type ModalSubmitInteraction,
} from "discord.js";
import type { Refusal } from "../team/admission.ts";
import type { BotContext } from "./context.ts";
import { replyPrivately } from "./replies.ts";

type AskingInteraction = ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction;

export interface AdmissionAsk {
  promptText: string;
  jobCount: number;
  /** For buttons: who asked for the job the button belongs to. */
  jobOwnerId?: string;
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

export function refusalReply(refusal: Refusal): string {
  switch (refusal.rule) {
    case "channel":
      return `**Not in this channel** — admins allow Atelier only in ${refusal.allowedChannelIds.map((id) => `<#${id}>`).join(", ")}.`;
    case "buttons":
      return refusal.policy === "owner"
        ? "**Not your job** — here only the person who started a job can use its buttons. Start your own with /imagine."
        : `**Not your job** — here only members with ${refusal.roleIds.map((id) => `<@&${id}>`).join(", ") || "an allowed role"} can use buttons on other people's jobs.`;
    case "offender":
      return `**Paused for moderation** — the image service refused several of your prompts, so you can start new jobs again ${at(refusal.until, "R")} (${at(refusal.until, "t")}).`;
    case "banned":
      return `**Banned prompt** — the word \`${refusal.term.replaceAll("`", "ˋ")}\` is not allowed here. Change the prompt and try again.`;
    case "cooldown":
      return `**Cooldown** — one job every ${refusal.seconds} s per person here. Try again ${at(refusal.until, "R")}.`;
    case "userDaily":
      return `**Daily limit reached** — you can start ${refusal.limit} jobs a day here and have started ${refusal.used} today${refusal.requested > 1 ? ` (this would add ${refusal.requested})` : ""}. The limit resets ${at(refusal.resetsAt, "R")} (${at(refusal.resetsAt, "f")}, midnight UTC).`;
    case "guildDaily":
      return `**Server's daily limit reached** — this server can start ${refusal.limit} jobs a day and has started ${refusal.used} today${refusal.requested > 1 ? ` (this would add ${refusal.requested})` : ""}. The limit resets ${at(refusal.resetsAt, "R")} (${at(refusal.resetsAt, "f")}, midnight UTC).`;
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
  await replyPrivately(interaction, refusalReply(verdict.refusal));
  return false;
}
