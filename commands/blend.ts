// /blend image1 image2 [dimensions] [image3] [image4] [image5]: a new set made from 2–5 images.
// Registered only when the provider can blend (see `requires` in commands/index.ts).
import {
  type APIApplicationCommandOptionChoice,
  ApplicationCommandOptionType,
  type ChatInputCommandInteraction,
} from "discord.js";
import { choiceText, commandText } from "../src/discord/command-text.ts";
import type { CommandArgs, CommandDefinition } from "../src/discord/command-types.ts";
import type { BotContext } from "../src/discord/context.ts";
import { startImageJob } from "../src/discord/image-commands.ts";
import type { BlendDimensions } from "../src/providers/types.ts";

const imageOption = <Name extends string, Required extends boolean>(name: Name, required: Required) =>
  ({
    type: ApplicationCommandOptionType.Attachment,
    name,
    ...commandText(`commands:blend.${name}`),
    required,
  }) as const;

const dimensionChoices: APIApplicationCommandOptionChoice<string>[] = (
  ["portrait", "square", "landscape"] as const
).map((value) => ({ ...choiceText(`commands:blend.${value}`), value }));

export const blendCommand = {
  name: "blend",
  ...commandText("commands:blend"),
  // Discord wants required options first; this is Midjourney's own order.
  options: [
    imageOption("image1", true),
    imageOption("image2", true),
    {
      type: ApplicationCommandOptionType.String,
      name: "dimensions",
      ...commandText("commands:blend.dimensions"),
      required: false,
      choices: dimensionChoices,
    },
    imageOption("image3", false),
    imageOption("image4", false),
    imageOption("image5", false),
  ],
} as const satisfies CommandDefinition;

function dimensionsOf(value: string | undefined): BlendDimensions {
  return value === "portrait" || value === "landscape" ? value : "square";
}

export async function blend(
  interaction: ChatInputCommandInteraction,
  args: CommandArgs<typeof blendCommand>,
  context: BotContext,
): Promise<void> {
  const images = [args.image1, args.image2, args.image3, args.image4, args.image5].flatMap((image) =>
    image ? [image] : [],
  );
  await startImageJob(interaction, context, {
    command: "blend",
    images,
    limits: { min: 2, max: 5 },
    request: (imageUrls) => ({ kind: "blend", imageUrls, dimensions: dimensionsOf(args.dimensions) }),
  });
}
