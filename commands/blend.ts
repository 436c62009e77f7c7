// /blend image1 image2 [dimensions] [image3] [image4] [image5]: a new set made from 2–5 images.
// Registered only when the provider can blend (see `requires` in commands/index.ts).
import {
  type APIApplicationCommandOptionChoice,
  ApplicationCommandOptionType,
  type ChatInputCommandInteraction,
} from "discord.js";
import type { CommandArgs, CommandDefinition } from "../src/discord/command-types.ts";
import type { BotContext } from "../src/discord/context.ts";
import { startImageJob } from "../src/discord/image-commands.ts";
import type { BlendDimensions } from "../src/providers/types.ts";

const imageOption = <Required extends boolean>(name: string, description: string, required: Required) =>
  ({ type: ApplicationCommandOptionType.Attachment, name, description, required }) as const;

const dimensionChoices: APIApplicationCommandOptionChoice<string>[] = [
  { name: "Portrait (2:3)", value: "portrait" },
  { name: "Square (1:1)", value: "square" },
  { name: "Landscape (3:2)", value: "landscape" },
];

export const blendCommand = {
  name: "blend",
  description: "Blend 2 to 5 images into a new set of images",
  // Discord wants required options first; this is Midjourney's own order.
  options: [
    imageOption("image1", "First image", true),
    imageOption("image2", "Second image", true),
    {
      type: ApplicationCommandOptionType.String,
      name: "dimensions",
      description: "Shape of the new images (square unless chosen)",
      required: false,
      choices: dimensionChoices,
    },
    imageOption("image3", "Third image", false),
    imageOption("image4", "Fourth image", false),
    imageOption("image5", "Fifth image", false),
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
