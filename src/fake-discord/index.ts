/**
 * In-repo fake Discord for end-to-end tests with the real discord.js client, and for the playground.
 *
 *   const fake = await FakeDiscord.start();
 *   const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.restBaseUrl } });
 *   await client.login(fake.botToken);
 *   const run = await fake.runSlashCommand({ name: "imagine", options: { prompt: "a fox" } });
 *   const grid = await run.waitForOriginalMessage();           // deferred → edited
 *   const click = await fake.clickButton({ message: grid, customId: "…" });
 *   …
 *   await client.destroy();
 *   await fake.stop();
 *
 * HTTP interactions: `FakeDiscord.start({ interactions: "http" })` signs each interaction with its
 * own Ed25519 key pair and POSTs it to the bot instead of using the gateway; give the bot
 * `fake.interactionsEndpoint.publicKey` and save its URL(s) with `interactionsEndpoint.configure`.
 * See test/e2e/http-interactions.test.ts.
 *
 * See test/fake-discord.test.ts for every feature in use.
 */
export type { Probe } from "./change-feed.ts";
export { FakeDiscord, type FakeDiscordOptions } from "./fake-discord.ts";
export type { FailureOptions, RateLimitOptions, RequestMatcher } from "./faults.ts";
export type { IdentifyRecord } from "./gateway.ts";
export type { RecordedRequest } from "./http-handler.ts";
export type { ButtonClickInput, FileInput, ModalSubmitInput, SlashCommandInput } from "./inputs.ts";
export type { FakeInteractionPayload, SlashOptionValue } from "./interaction-payloads.ts";
export { InteractionHandle, type RecordedCallback, type SignedInteraction } from "./interactions.ts";
export {
  type EndpointPoster,
  type EndpointReply,
  endpointHeaders,
  type InteractionsEndpoint,
} from "./interactions-endpoint.ts";
export type { ChangeSource, FakeAttachment, FakeMessage, MessageRevision } from "./message-store.ts";
export type { UploadedFile } from "./multipart.ts";
export type { FakeGuild, FakeMemberSettings } from "./payloads.ts";
export { type ShardKey, shardOfGuild } from "./sharding.ts";
