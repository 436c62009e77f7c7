// Short ephemeral texts shared by commands and buttons.
import { MessageFlags, type RepliableInteraction } from "discord.js";
import { promptErrorText } from "../i18n/errors.ts";
import { type Language, type Translate, translator } from "../i18n/index.ts";
import type { PromptError } from "../prompt/types.ts";
import { type PrivateText, wordFor } from "./language.ts";
import { takeOverThinking } from "./thinking.ts";

const codeBlockRoom = 1500;

/** The problem, then the prompt in a code block so it can be copied, fixed and sent again. */
export function promptErrorReply(error: PromptError, prompt: string, language: Language = "en"): string {
  return invalidPromptReply(promptErrorText(error, language), prompt, language);
}

/** "Invalid prompt — <problem>", then the prompt to copy. */
export function invalidPromptReply(problem: string, prompt: string, language: Language): string {
  const echoed = prompt.length > codeBlockRoom ? `${prompt.slice(0, codeBlockRoom)}…` : prompt;
  const fence = "```";
  const headline = translator(language)("discord:reply.invalidPrompt", { problem });
  return `${headline}\n${fence}\n${echoed.replaceAll(fence, "ˋˋˋ")}\n${fence}`.slice(0, 2000);
}

export const restartingReply = (t: Translate) => t("discord:reply.restarting");
export const unknownJobReply = (t: Translate) => t("discord:reply.unknownJob");

/** A command this bot still knows but its image service cannot serve (Discord may list it for a while). */
export function unsupportedCommandReply(commandName: string, providerName: string): PrivateText {
  return (t) => t("discord:reply.unsupportedCommand", { command: commandName, provider: providerName });
}

/** An interaction that can be answered: a command, a button, a submitted form. */
type Answerable = Pick<
  RepliableInteraction,
  "reply" | "followUp" | "deleteReply" | "deferReply" | "replied" | "deferred" | "locale"
>;

/**
 * The one way to answer someone privately: a reply, or a follow-up once the interaction was
 * answered (a public "thinking…" is deleted first); in the person's own language when `text` is
 * worded here.
 */
export async function replyPrivately(interaction: Answerable, text: PrivateText): Promise<void> {
  const message = { content: wordFor(interaction, text), flags: MessageFlags.Ephemeral } as const;
  // Discord turns the first follow-up after "thinking…" into an edit of it, which stays public.
  if (await takeOverThinking(interaction)) await interaction.deleteReply();
  if (interaction.replied || interaction.deferred) await interaction.followUp(message);
  else await interaction.reply(message);
}
