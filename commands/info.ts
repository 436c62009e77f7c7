// /info: privately, your jobs in progress, what you used today and this month, and what is left
// under this server's limits. Members with Manage Server also see the server's totals and top users.
import { type ChatInputCommandInteraction, MessageFlags } from "discord.js";
import { commandText } from "../src/discord/command-text.ts";
import type { CommandDefinition } from "../src/discord/command-types.ts";
import type { BotContext } from "../src/discord/context.ts";
import { personalLanguage } from "../src/discord/language.ts";
import { type Translate, translator } from "../src/i18n/index.ts";
import type { JobRecord } from "../src/jobs/record.ts";
import type { GuildConfig } from "../src/team/guild-config.ts";
import type { TeamServices } from "../src/team/team.ts";
import { nextUtcMidnight, topUsers, type UsageScope, type UsageTotals } from "../src/team/usage.ts";
import { isServerManager } from "./admin.ts";

export const infoCommand = {
  name: "info",
  ...commandText("commands:info"),
} as const satisfies CommandDefinition;

const topCount = 5;
const latestCount = 5;
const promptPreviewLength = 60;

const at = (time: number, style: "R" | "t") => `<t:${Math.floor(time / 1000)}:${style}>`;

function describeCredits(totals: UsageTotals, t: Translate): string {
  const amount = Number(totals.credits.toFixed(2));
  // Some credits are estimates when the image service did not report its own figure.
  return t(totals.estimated > 0 ? "commands:info.estimatedCredits" : "commands:info.credits", { amount });
}

function describeTotals(totals: UsageTotals, t: Translate): string {
  const parts = [
    t("commands:info.started", { count: totals.started }),
    t("commands:info.completed", { count: totals.completed }),
  ];
  if (totals.failed > 0)
    parts.push(
      t("commands:info.failed", { count: totals.failed }) +
        (totals.refused > 0 ? t("commands:info.refused", { count: totals.refused }) : ""),
    );
  parts.push(describeCredits(totals, t));
  return parts.join(" · ");
}

function describeJob(job: JobRecord, t: Translate): string {
  const prompt =
    job.prompt.length > promptPreviewLength ? `${job.prompt.slice(0, promptPreviewLength)}…` : job.prompt;
  const status =
    job.state === "running" && job.progress !== undefined
      ? t("commands:info.running", { percent: Math.round(job.progress) })
      : t(`commands:info.state.${job.state}`);
  // The id is what /show takes.
  return `• \`${job.id}\` ${job.kind} — ${prompt.replaceAll("`", "ˋ")} (${status})`;
}

/** The latest finished jobs, whose ids /show takes. */
async function latestLines(context: BotContext, userId: string, t: Translate): Promise<string[]> {
  const finished = (await context.jobs.recentJobsOf(userId, latestCount * 2))
    .filter((job) => job.state === "completed")
    .slice(0, latestCount);
  return finished.length === 0
    ? []
    : [t("commands:info.latest"), ...finished.map((job) => describeJob(job, t))];
}

function remainingLines(
  config: GuildConfig,
  used: { user: UsageTotals; guild: UsageTotals },
  now: number,
  t: Translate,
): string[] {
  const resets = t("commands:info.resets", { relative: at(nextUtcMidnight(now), "R") });
  const left = (limit: number, totals: UsageTotals) => ({
    left: Math.max(0, limit - totals.started),
    limit,
    resets,
  });
  const lines: string[] = [];
  if (config.userDailyJobs !== undefined)
    lines.push(t("commands:info.leftToday", left(config.userDailyJobs, used.user)));
  if (config.guildDailyJobs !== undefined)
    lines.push(t("commands:info.leftTodayServer", left(config.guildDailyJobs, used.guild)));
  return lines;
}

async function waitLines(
  team: TeamServices,
  config: GuildConfig,
  scope: UsageScope,
  now: number,
  t: Translate,
): Promise<string[]> {
  const lines: string[] = [];
  const blockedUntil = await team.offenders.blockedUntil(scope.guildId, scope.userId, now);
  if (blockedUntil !== undefined)
    lines.push(t("commands:info.paused", { time: at(blockedUntil, "t"), relative: at(blockedUntil, "R") }));
  const last = await team.usage.lastStartedAt(scope);
  if (
    config.cooldownSeconds !== undefined &&
    last !== undefined &&
    last + config.cooldownSeconds * 1000 > now
  )
    lines.push(t("commands:info.cooldown", { relative: at(last + config.cooldownSeconds * 1000, "R") }));
  return lines;
}

async function adminLines(team: TeamServices, guildId: string, now: number, t: Translate): Promise<string[]> {
  const today = await team.usage.guildTotals(guildId, "day", now);
  const month = await team.usage.guildTotals(guildId, "month", now);
  const top = topUsers(month, topCount).map(({ userId, totals }, rank) =>
    t("commands:info.topUser", {
      rank: rank + 1,
      user: `<@${userId}>`,
      count: totals.started,
      credits: describeCredits(totals, t),
    }),
  );
  return [
    "",
    t("commands:info.server"),
    t("commands:info.serverToday", { totals: describeTotals(today, t) }),
    t("commands:info.thisMonth", { totals: describeTotals(month, t) }),
    ...(top.length > 0 ? [t("commands:info.topThisMonth"), ...top] : []),
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
  const t = translator(personalLanguage(interaction));
  const lines = [
    t("commands:info.heading"),
    open.length === 0
      ? t("commands:info.nothingInProgress")
      : t("commands:info.inProgress", { count: open.length }),
    ...open.slice(0, 10).map((job) => describeJob(job, t)),
    ...(await latestLines(context, interaction.user.id, t)),
    t("commands:info.today", { totals: describeTotals(today, t) }),
    t("commands:info.thisMonth", { totals: describeTotals(month, t) }),
    ...remainingLines(config, { user: today, guild: guildToday }, now, t),
    ...(await waitLines(team, config, scope, now, t)),
    ...(guildId && isServerManager(interaction) ? await adminLines(team, guildId, now, t) : []),
  ];
  const content = lines.join("\n");
  await interaction.reply({
    content: content.length > 2000 ? `${content.slice(0, 1999)}…` : content,
    flags: MessageFlags.Ephemeral,
    allowedMentions: { parse: [] },
  });
}
