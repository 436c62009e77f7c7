// Public API of src/images: safe download of result images, grid composition, Discord encoding.
export { isPublicAddress } from "./address.ts";
export {
  type DownloadedImage,
  type DownloadPolicy,
  downloadImage,
  downloadSourceImage,
  ImageDownloadError,
  type ImageDownloadFailure,
} from "./download.ts";
export {
  discordMaxBytes,
  type EncodedImage,
  type EncodeOptions,
  encodeForDiscord,
  type OutputFormat,
  type RawImage,
} from "./encode.ts";
export type { Layout, Size } from "./geometry.ts";
export { type ComposeOptions, composeContactSheet, composeGrid } from "./grid.ts";
export { type ImageFormat, sniffImageFormat } from "./sniff.ts";
