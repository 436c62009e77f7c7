// What a job looks like in Discord, Midjourney style: one content line with the prompt, the
// requester and the status, the buttons the provider can serve, a red embed for failures.
// Pure: a job record and capabilities in, message data out.
import {
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIEmbed,
  ButtonStyle,
  ComponentType,
  escapeMarkdown,
} from "discord.js";
import { jobMessageText, promptNoteText } from "../i18n/errors.ts";
import { type Language, languageOf, type Translate, translator } from "../i18n/index.ts";
import { followUpIndex, type JobError, type JobRecord } from "../jobs/record.ts";
import type { ProviderCapabilities } from "../providers/types.ts";
import { type ButtonAction, encodeButton } from "./custom-id.ts";
import { warningText } from "./warning-text.ts";

export interface MessageView {
  content: string;
  components: APIActionRowComponent<APIButtonComponent>[];
  embeds: APIEmbed[];
}

const contentLimit = 2000;
const errorColour = 0xed4245;

/** The language of a job's public message; records from before languages existed are English. */
export function jobLanguage(job: Pick<JobRecord, "language">): Language {
  return languageOf(job.language);
}

/** The prompt as shown: links unfurl-free, markdown escaped, cut to leave room for the rest of the line. */
export function displayPrompt(prompt: string, room: number): string {
  const shown = prompt
    .split(" ")
    .map((word) => (/^https?:\/\//.test(word) ? `<${word}>` : escapeMarkdown(word)))
    .join(" ");
  return shown.length <= room ? shown : `${shown.slice(0, Math.max(0, room - 1)).trimEnd()}…`;
}

function byline(job: JobRecord, t: Translate): string {
  const user = `<@${job.requesterId}>`;
  switch (job.kind) {
    case "upscale": {
      const style = job.followUp?.kind === "upscale" ? job.followUp.style : undefined;
      return style
        ? t("discord:byline.upscaled", { style: t(`discord:byline.upscaleStyle.${style}`), user })
        : t("discord:byline.image", { index: followUpIndex(job) ?? 1, user });
    }
    case "variation":
      return t("discord:byline.variations", { user });
    case "blend":
    case "describe":
      return t("discord:byline.command", { command: job.kind, user });
    default:
      return user;
  }
}

/** "(Queued — 3 ahead)" while others are ahead in Atelier's own queue, else "(Waiting to start)". */
function waiting(job: JobRecord, t: Translate): string {
  return job.queuePosition
    ? ` (${t("discord:status.queued", { count: job.queuePosition })})`
    : ` (${t("discord:status.waiting")})`;
}

function status(job: JobRecord, t: Translate): string {
  const speed = job.speed ? ` (${t(`discord:speed.${job.speed}`)})` : "";
  const hd = job.quality === "hd" ? " (HD)" : "";
  switch (job.state) {
    case "queued":
      // queuePosition of a queued job: jobs ahead of it in Atelier's own queue.
      return waiting(job, t);
    case "submitting":
      return ` (${t("discord:status.waiting")})`;
    case "running":
      if (job.progress === undefined || job.progress <= 0) return waiting(job, t);
      return ` (${Math.min(99, Math.round(job.progress))}%)${speed}${job.progressNote ? ` — ${job.progressNote}` : ""}`;
    case "completed":
      // A separated or upscaled single image reads "Image #n @user", as in Midjourney.
      return job.kind === "upscale" ? "" : `${speed}${hd}`;
    case "failed":
      return ` (${t(job.error?.kind === "cancelled" ? "discord:status.cancelled" : "discord:status.failed")})`;
  }
}

/** The prompt's notes and what the provider could not honour, in words. */
function warningLine(job: JobRecord, language: Language): string {
  // Records from before notes were stored as data have their English words only.
  const promptNotes = job.notes?.map((note) => promptNoteText(note, language)) ?? job.warnings;
  const notes = [...promptNotes, ...job.providerWarnings.map((warning) => warningText(warning, language))];
  if (notes.length === 0 || job.state === "failed") return "";
  const text = [...new Set(notes)].map((note) => escapeMarkdown(note)).join(" · ");
  return `\n-# ⚠️ ${text.length > 300 ? `${text.slice(0, 299)}…` : text}`;
}

export function jobContent(job: JobRecord): string {
  const language = jobLanguage(job);
  const t = translator(language);
  const tail = ` - ${byline(job, t)}${status(job, t)}`;
  const warnings = warningLine(job, language);
  const room = contentLimit - tail.length - warnings.length - 4;
  return `**${displayPrompt(job.prompt, room)}**${tail}${warnings}`;
}

function button(
  job: JobRecord,
  action: ButtonAction,
  label: string,
  options: { index?: number; highlighted?: boolean; emoji?: string } = {},
): APIButtonComponent {
  return {
    type: ComponentType.Button,
    style: options.highlighted ? ButtonStyle.Primary : ButtonStyle.Secondary,
    custom_id: encodeButton({ jobId: job.id, action, index: options.index }),
    ...(label ? { label } : {}),
    ...(options.emoji ? { emoji: { name: options.emoji } } : {}),
  };
}

function row(components: APIButtonComponent[]): APIActionRowComponent<APIButtonComponent> {
  return { type: ComponentType.ActionRow, components };
}

function chunk<T>(items: T[], size: number): T[][] {
  const rows: T[][] = [];
  for (let start = 0; start < items.length; start += size) rows.push(items.slice(start, start + size));
  return rows;
}

/** Images in a finished set: split images when the provider gave them, else its 2×2 grid counts as 4. */
export function imageCount(job: JobRecord): number {
  return job.imageUrls.length > 0 ? job.imageUrls.length : job.gridUrl ? 4 : 0;
}

function gridRows(
  job: JobRecord,
  capabilities: ProviderCapabilities,
): APIActionRowComponent<APIButtonComponent>[] {
  const count = imageCount(job);
  const upscales = Array.from({ length: count }, (_, i) =>
    button(job, "upscale", `U${i + 1}`, { index: i + 1, highlighted: job.pressed.includes(`u${i + 1}`) }),
  );
  const reroll = capabilities.reroll ? [button(job, "reroll", "", { emoji: "🔄" })] : [];
  if (count > 4)
    return chunk([...upscales, ...reroll], 5)
      .slice(0, 5)
      .map(row);
  const rows = [row([...upscales, ...reroll])];
  if (capabilities.variation.length > 0) {
    rows.push(
      row(
        Array.from({ length: count }, (_, i) =>
          button(job, "variation", `V${i + 1}`, {
            index: i + 1,
            highlighted: job.pressed.includes(`v${i + 1}`),
          }),
        ),
      ),
    );
  }
  return rows;
}

function singleImageRows(
  job: JobRecord,
  capabilities: ProviderCapabilities,
  t: Translate,
): APIActionRowComponent<APIButtonComponent>[] {
  const followUps: APIButtonComponent[] = [];
  if (capabilities.variation.includes("subtle"))
    followUps.push(button(job, "varySubtle", t("discord:button.varySubtle"), { emoji: "🪄" }));
  if (capabilities.variation.includes("strong"))
    followUps.push(button(job, "varyStrong", t("discord:button.varyStrong"), { emoji: "🪄" }));
  if (capabilities.upscaleStyles.includes("subtle"))
    followUps.push(button(job, "upscaleSubtle", t("discord:button.upscaleSubtle")));
  if (capabilities.upscaleStyles.includes("creative"))
    followUps.push(button(job, "upscaleCreative", t("discord:button.upscaleCreative")));
  if (capabilities.hd && job.quality !== "hd") followUps.push(button(job, "hd", t("discord:button.hd")));
  const rows = followUps.length > 0 ? [row(followUps)] : [];
  if (capabilities.outpaint) rows.push(...outpaintRows(job, t));
  const fullSize = job.imageUrls[0];
  // Discord takes only http(s) links; a result kept as a blob (atelier-blob:) has none to open.
  if (fullSize && fullSize.length <= 512 && /^https?:\/\//.test(fullSize)) {
    rows.push(
      row([
        {
          type: ComponentType.Button,
          style: ButtonStyle.Link,
          label: t("discord:button.openFullSize"),
          url: fullSize,
        },
      ]),
    );
  }
  return rows;
}

/** Zoom Out and Make Square, then the four Pan arrows, as Midjourney lays them out. */
function outpaintRows(job: JobRecord, t: Translate): APIActionRowComponent<APIButtonComponent>[] {
  return [
    row([
      button(job, "zoom2", t("discord:button.zoom2"), { emoji: "🔍" }),
      button(job, "zoom15", t("discord:button.zoom15"), { emoji: "🔍" }),
      button(job, "square", t("discord:button.square"), { emoji: "↔️" }),
    ]),
    row([
      button(job, "panLeft", "", { emoji: "⬅️" }),
      button(job, "panRight", "", { emoji: "➡️" }),
      button(job, "panUp", "", { emoji: "⬆️" }),
      button(job, "panDown", "", { emoji: "⬇️" }),
    ]),
  ];
}

/** Keycap numbers, as Midjourney numbers its /describe suggestions. */
const keycaps = ["1️⃣", "2️⃣", "3️⃣", "4️⃣"];
/** Room per suggestion, so four always fit in one embed (4096 characters). */
const descriptionRoom = 1000;

/** The suggested prompts (at most four: one button each, beside 🔄), numbered. */
export function shownDescriptions(job: JobRecord): string[] {
  return (job.descriptions ?? []).slice(0, keycaps.length);
}

export function descriptionsEmbed(descriptions: string[]): APIEmbed {
  const lines = descriptions.map((text, i) => {
    const clipped = text.length > descriptionRoom ? `${text.slice(0, descriptionRoom - 1)}…` : text;
    return `${keycaps[i]} ${escapeMarkdown(clipped)}`;
  });
  return { description: lines.join("\n\n") };
}

/** `1`…`4` imagine that suggestion; 🔄 describes the image again. */
function describeRows(job: JobRecord): APIActionRowComponent<APIButtonComponent>[] {
  const picks = shownDescriptions(job).map((_, i) =>
    button(job, "imagineDescription", String(i + 1), {
      index: i + 1,
      highlighted: job.pressed.includes(`d${i + 1}`),
    }),
  );
  return [row([...picks, button(job, "reroll", "", { emoji: "🔄" })])];
}

/** ❌ Cancel while a job waits in Atelier's queue, or while it runs if the provider can stop it. */
function cancelRows(
  job: JobRecord,
  capabilities: ProviderCapabilities,
  t: Translate,
): APIActionRowComponent<APIButtonComponent>[] {
  const cancellable = job.state === "queued" || (job.state === "running" && capabilities.cancel);
  return cancellable ? [row([button(job, "cancel", t("discord:button.cancel"), { emoji: "❌" })])] : [];
}

/** Atelier's headline and advice around the error's words (the provider's own words stay as they are). */
export function errorEmbed(error: JobError, language: Language = "en"): APIEmbed {
  const t = translator(language);
  const reason = error.reason
    ? `\n${t("discord:error.reason", { reason: escapeMarkdown(error.reason) })}`
    : "";
  const advice = t("discord:error.whatToDo", { advice: t(`discord:error.advice.${error.advice}`) });
  return {
    color: errorColour,
    title: t(`discord:error.title.${error.kind}`),
    description: `${jobMessageText(error, t)}${reason}\n\n${advice}`.slice(0, 4096),
  };
}

/** The whole message for a job in its current state. */
export function jobView(job: JobRecord, capabilities: ProviderCapabilities): MessageView {
  const content = jobContent(job);
  const language = jobLanguage(job);
  const t = translator(language);
  if (job.state === "failed") {
    return {
      content,
      embeds: job.error ? [errorEmbed(job.error, language)] : [],
      components: [row([button(job, "reroll", "", { emoji: "🔄" })])],
    };
  }
  if (job.state !== "completed") return { content, embeds: [], components: cancelRows(job, capabilities, t) };
  if (job.kind === "describe")
    return { content, embeds: [descriptionsEmbed(shownDescriptions(job))], components: describeRows(job) };
  const components =
    job.kind === "upscale" ? singleImageRows(job, capabilities, t) : gridRows(job, capabilities);
  return { content, embeds: [], components };
}
