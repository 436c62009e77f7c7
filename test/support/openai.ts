// What the OpenAI adapter sends for a set, as tests expect it: one streamed request for four images,
// on the default model and quality, with two partial images per image for the live preview.
export function setRequestBody(prompt: string, size: string, extra: Record<string, unknown> = {}) {
  return {
    model: "gpt-image-2",
    prompt,
    n: 4,
    size,
    quality: "medium",
    stream: true,
    partial_images: 2,
    ...extra,
  };
}
