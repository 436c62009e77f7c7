// A command that starts jobs is answered at once with Discord's public "thinking…", before the
// store or the queue is asked anything, so the answer never waits for them (Discord gives up at
// 3 s); the thread that received it has usually sent it already (gateway-front.ts,
// interaction-front.ts), and then this one is a no-op. What follows replaces it: the job's
// message edits it in place; a private answer (a prompt error, a refusal) deletes it and follows up
// privately, so nothing public is left behind.
import type { RepliableInteraction } from "discord.js";

type Thinkable = Pick<RepliableInteraction, "deferReply" | "replied" | "deferred">;

const answering = new WeakMap<Thinkable, Promise<unknown>>();

/** Sends "thinking…" as the interaction's answer without waiting for it. */
export function thinkAtOnce(interaction: Thinkable): void {
  if (interaction.replied || interaction.deferred || answering.has(interaction)) return;
  const deferral = interaction.deferReply();
  // Whoever answers next awaits it and meets its failure; until then it must not go unhandled.
  deferral.catch(() => undefined);
  answering.set(interaction, deferral);
}

/**
 * True when a "thinking…" answer sent by `thinkAtOnce` stands and the caller is the one to replace
 * it (asked once: the first caller takes it over); waits for it to be sent, and throws if it failed.
 */
export async function takeOverThinking(interaction: Thinkable): Promise<boolean> {
  const deferral = answering.get(interaction);
  if (!deferral) return false;
  answering.delete(interaction);
  await deferral;
  return true;
}
