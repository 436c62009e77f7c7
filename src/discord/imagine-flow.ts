// The /imagine pipeline, shared by the command and the /describe result's buttons: the prompt
// language and the provider's limits, then one job (and message) per prompt through the one
// admit-and-start path.
import { preparePrompts } from "../jobs/pipeline.ts";
import type { BotContext } from "./context.ts";
import { providersHere } from "./providers-here.ts";
import { promptErrorReply, replyPrivately } from "./replies.ts";
import { admitAndStart, type FirstMessage, type StartingInteraction } from "./start-jobs.ts";
import { thinkAtOnce } from "./thinking.ts";

export interface ImagineAsk {
  /** The whole prompt: image links first, then the text. */
  input: string;
  /** What the person typed or picked: echoed back in an error, checked against banned words. */
  typed: string;
  /** For buttons: who asked for the job the button belongs to (the guild's button policy). */
  jobOwnerId?: string;
  first: FirstMessage;
  /** Runs once the jobs are admitted, before their messages. */
  acknowledge?: () => Promise<void>;
}

/** Checks the prompt (with the person's preferences) and starts one imagine job per prompt it makes. */
export async function imaginePrompts(
  interaction: StartingInteraction,
  context: BotContext,
  ask: ImagineAsk,
): Promise<void> {
  if (ask.first === "reply" && context.thinkFirst) thinkAtOnce(interaction);
  const here = await providersHere(context, interaction.user.id, interaction.guildId ?? undefined);
  const prepared = preparePrompts(ask.input, here.fallback, {
    named: here.named,
    maxJobs: context.maxJobs,
    speed: context.defaultSpeed,
    quality: context.defaultQuality,
    preferences: here.preferences,
    trustedImageOrigins: context.trustedImageOrigins,
  });
  if (!prepared.ok)
    return replyPrivately(interaction, (_t, language) =>
      promptErrorReply(prepared.error, ask.typed, language),
    );
  await admitAndStart(interaction, context, {
    requests: prepared.jobs.map((job) => ({ kind: "imagine", ...job })),
    // Expanded texts too: a permutation can assemble a banned word the typed text does not show.
    promptText: [ask.typed, ...prepared.prompts.map((prompt) => prompt.text)].join("\n"),
    ...(ask.jobOwnerId === undefined ? {} : { jobOwnerId: ask.jobOwnerId }),
    first: ask.first,
    acknowledge: ask.acknowledge,
    guildConfig: here.guildConfig,
  });
}
