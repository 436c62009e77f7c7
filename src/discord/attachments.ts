// What /blend and /describe accept as images: files Atelier can fetch and check (PNG, JPEG, WebP,
// GIF) from a public https link. Checked before anything is queued, so a wrong file costs a private
// message, not a job.
import { promptPhraseText } from "../i18n/errors.ts";
import { type Language, translator } from "../i18n/index.ts";
import { linkProblemPhrase } from "../prompt/index.ts";

/** What Discord tells about an attached file (discord.js `Attachment` has both). */
export interface AttachedFile {
  name: string;
  contentType: string | null;
}

const imageTypes = new Set(["image/png", "image/jpeg", "image/webp", "image/gif"]);
const imageExtension = /\.(png|jpe?g|webp|gif)$/i;

/** Discord omits the content type now and then; the file name's extension decides then. */
export function isSupportedImage(file: AttachedFile): boolean {
  const type = file.contentType?.split(";")[0]?.trim().toLowerCase();
  return type ? imageTypes.has(type) : imageExtension.test(file.name);
}

/** Why these attachments cannot be sent (as the user should read it), or undefined when they can. */
export function attachedImagesProblem(
  files: readonly AttachedFile[],
  command: string,
  limits: { min: number; max: number },
  language: Language = "en",
): string | undefined {
  const t = translator(language);
  if (files.length < limits.min || files.length > limits.max) {
    const wanted = limits.min === limits.max ? `${limits.min}` : t("discord:attachments.range", limits);
    return t("discord:attachments.count", { command, wanted, count: limits.max, attached: files.length });
  }
  const wrong = files.find((file) => !isSupportedImage(file));
  if (wrong) return t("discord:attachments.notImage", { name: wrong.name.replaceAll("`", "ˋ") });
  return undefined;
}

/**
 * Why an attachment's link must not be handed to the image service (it fetches it), or undefined.
 * Discord's CDN is public https; anything else is refused unless its origin is trusted (the fake
 * Discord in tests serves attachments from 127.0.0.1).
 */
export function attachedLinksProblem(
  files: readonly { name: string; url: string }[],
  trustedOrigins: readonly string[],
  language: Language = "en",
): string | undefined {
  for (const file of files) {
    const refused = linkProblemPhrase(file.url, { trustedOrigins, requireHttps: true });
    if (refused === undefined) continue;
    const name = file.name.replaceAll("`", "ˋ");
    const problem = promptPhraseText(refused, language);
    return translator(language)("discord:attachments.linkRefused", { name, problem });
  }
  return undefined;
}
