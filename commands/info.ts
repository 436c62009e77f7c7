// /info: privately, your jobs in progress, what you used today and this month, and what is left
// under this server's limits. Members with Manage Server also see the server's totals and top users.
import { type ChatInputCommandInteraction, MessageFlags } from "discord.js";
import type { CommandDefinition } from "../src/discord/command-types.ts";
import type { BotContext } from "../src/discord/context.ts";
import type { JobRecord } from "../src/jobs/record.ts";
import type { GuildConfig } from "../src/team/guild-config.ts";
import type { TeamServices } from "../src/team/team.ts";
import { nextUtcMidnight, topUsers, type UsageScope, type UsageTotals } from "../src/team/usage.ts";
import { isServerManager } from "./admin.ts";

export const infoCommand = {
  name: "info",
  description: "Your jobs in progress, your usage and what is left today",
} as const satisfies CommandDefinition;

const topCount = 5;
const latestCount = 5;
const promptPreviewLength = 60;

const at = (time: number, style: "R" | "t") => `<t:${Math.floor(time / 1000)}:${style}>`;

function describeCredits(totals: UsageTotals): string {
  const amount = Number(totals.credits.toFixed(2));
  // Some credits are estimates when the image service did not report its own figure.
  return totals.estimated > 0 ? `≈${amount} credits` : `${amount} credits`;
}

function describeTotals(totals: UsageTotals): string {
  const parts = [`${totals.started} started`, `${totals.completed} completed`];
  if (totals.failed > 0)
    parts.push(`${totals.failed} failed${totals.refused > 0 ? ` (${totals.refused} refused)` : ""}`);
  parts.push(describeCredits(totals));
  return parts.join(" · ");
}

function describeJob(job: JobRecord): string {
  const prompt =
    job.prompt.length > promptPreviewLength ? `${job.prompt.slice(0, promptPreviewLength)}…` : job.prompt;
  const status =
    job.state === "running" && job.progress !== undefined
      ? `running, ${Math.round(job.progress)}%`
      : job.state === "queued"
        ? "waiting"
        : job.state;
  // The id is what /show takes.
  return `• \`${job.id}\` ${job.kind} — ${prompt.replaceAll("`", "ˋ")} (${status})`;
}

/** The latest finished jobs, whose ids /show takes. */
async function latestLines(context: BotContext, userId: string): Promise<string[]> {
  const finished = (await context.jobs.recentJobsOf(userId, latestCount * 2))
    .filter((job) => job.state === "completed")
    .slice(0, latestCount);
  return finished.length === 0
    ? []
    : ["**Latest (/show job:<id> posts one again):**", ...finished.map(describeJob)];
}

function remainingLines(config: GuildConfig, user: UsageTotals, guild: UsageTotals, now: number): string[] {
  const resets = `resets ${at(nextUtcMidnight(now), "R")}`;
  const lines: string[] = [];
  if (config.userDailyJobs !== undefined)
    lines.push(
      `**Left today:** ${Math.max(0, config.userDailyJobs - user.started)} of ${config.userDailyJobs} jobs (${resets})`,
    );
  if (config.guildDailyJobs !== undefined)
    lines.push(
      `**Left today for the server:** ${Math.max(0, config.guildDailyJobs - guild.started)} of ${config.guildDailyJobs} jobs (${resets})`,
    );
  return lines;
}

async function waitLines(
  team: TeamServices,
  config: GuildConfig,
  scope: UsageScope,
  now: number,
): Promise<string[]> {
  const lines: string[] = [];
  const blockedUntil = await team.offenders.blockedUntil(scope.guildId, scope.userId, now);
  if (blockedUntil !== undefined)
    lines.push(`**Paused for moderation** until ${at(blockedUntil, "t")} (${at(blockedUntil, "R")})`);
  const last = await team.usage.lastStartedAt(scope);
  if (
    config.cooldownSeconds !== undefined &&
    last !== undefined &&
    last + config.cooldownSeconds * 1000 > now
  )
    lines.push(`**Cooldown:** next job ${at(last + config.cooldownSeconds * 1000, "R")}`);
  return lines;
}

async function adminLines(team: TeamServices, guildId: string, now: number): Promise<string[]> {
  const today = await team.usage.guildTotals(guildId, "day", now);
  const month = await team.usage.guildTotals(guildId, "month", now);
  const top = topUsers(month, topCount).map(
    ({ userId, totals }, rank) =>
      `${rank + 1}. <@${userId}> — ${totals.started} jobs, ${describeCredits(totals)}`,
  );
  return [
    "",
    "**Server (admins only)**",
    `**Today:** ${describeTotals(today)}`,
    `**This month:** ${describeTotals(month)}`,
    ...(top.length > 0 ? ["**Top this month:**", ...top] : []),
  ];
}

export async function info(interaction: ChatInputCommandInteraction, context: BotContext): Promise<void> {
  const { team } = context;
  const now = team.now();
  const guildId = interaction.guildId ?? undefined;
  const scope: UsageScope = { guildId, userId: interaction.user.id };
  const config = await team.configs.get(guildId);
  const open = await context.jobs.openJobsOf(interaction.user.id);
  const today = await team.usage.userTotals(scope, "day", now);
  const month = await team.usage.userTotals(scope, "month", now);
  const guildToday = await team.usage.guildTotals(guildId, "day", now);
  const lines = [
    "**Your Atelier info**",
    open.length === 0 ? "**In progress:** nothing" : `**In progress (${open.length}):**`,
    ...open.slice(0, 10).map(describeJob),
    ...(await latestLines(context, interaction.user.id)),
    `**Today (UTC):** ${describeTotals(today)}`,
    `**This month:** ${describeTotals(month)}`,
    ...remainingLines(config, today, guildToday, now),
    ...(await waitLines(team, config, scope, now)),
    ...(guildId && isServerManager(interaction) ? await adminLines(team, guildId, now) : []),
  ];
  const content = lines.join("\n");
  await interaction.reply({
    content: content.length > 2000 ? `${content.slice(0, 1999)}…` : content,
    flags: MessageFlags.Ephemeral,
    allowedMentions: { parse: [] },
  });
}
