// Short ephemeral texts shared by commands and buttons.
import { MessageFlags, type RepliableInteraction } from "discord.js";
import type { PromptError } from "../prompt/types.ts";

const codeBlockRoom = 1500;

/** The problem, then the prompt in a code block so it can be copied, fixed and sent again. */
export function promptErrorReply(error: PromptError, prompt: string): string {
  const echoed = prompt.length > codeBlockRoom ? `${prompt.slice(0, codeBlockRoom)}…` : prompt;
  const fence = "```";
  return `**Invalid prompt** — ${error.message}\n${fence}\n${echoed.replaceAll(fence, "ˋˋˋ")}\n${fence}`.slice(
    0,
    2000,
  );
}

export const restartingReply = "Atelier is restarting. Try again in a moment.";
export const unknownJobReply =
  "Atelier no longer knows the job behind this button (its record is gone). Run the prompt again with /imagine.";

/** A command this bot still knows but its image service cannot serve (Discord may list it for a while). */
export function unsupportedCommandReply(commandName: string, providerName: string): string {
  return `**/${commandName} is not available** — the image service this bot uses (${providerName}) cannot do it, so Atelier no longer offers the command.`;
}

/** An interaction that can be answered: a command, a button, a submitted form. */
type Answerable = Pick<RepliableInteraction, "reply" | "followUp" | "replied" | "deferred">;

/** The one way to answer someone privately: a reply, or a follow-up once the interaction was answered. */
export async function replyPrivately(interaction: Answerable, content: string): Promise<void> {
  const message = { content, flags: MessageFlags.Ephemeral } as const;
  if (interaction.replied || interaction.deferred) await interaction.followUp(message);
  else await interaction.reply(message);
}
