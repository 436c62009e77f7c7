import { once } from "node:events";
import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  type Interaction,
  LabelBuilder,
  MessageFlags,
  ModalBuilder,
  RESTEvents,
  SlashCommandBuilder,
  TextInputBuilder,
  TextInputStyle,
} from "discord.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeDiscord, type FakeMessage } from "./fake-discord/index.ts";

// A 1×1 PNG: binary bytes (0x89, NULs…) that would not survive a text round-trip.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);

const COMMANDS = [
  new SlashCommandBuilder()
    .setName("imagine")
    .setDescription("Create images from a prompt")
    .addStringOption((option) => option.setName("prompt").setDescription("What to draw").setRequired(true))
    .addAttachmentOption((option) => option.setName("image").setDescription("Reference image")),
  new SlashCommandBuilder().setName("settings").setDescription("Change your defaults"),
];

type Handler = (interaction: Interaction) => Promise<void>;

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/** The grid view the inline handler sends: U1–U4 and a re-roll button. */
function gridRow(disabled = false): ActionRowBuilder<ButtonBuilder> {
  const buttons = [1, 2, 3, 4].map((index) =>
    new ButtonBuilder()
      .setCustomId(`upscale:${index}`)
      .setLabel(`U${index}`)
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(disabled),
  );
  const reroll = new ButtonBuilder().setCustomId("reroll").setEmoji("🔄").setStyle(ButtonStyle.Secondary);
  return new ActionRowBuilder<ButtonBuilder>().addComponents(...buttons, reroll.setDisabled(disabled));
}

/** The default bot behaviour of these tests: a miniature /imagine flow. */
const imagineHandler: Handler = async (interaction) => {
  if (interaction.isChatInputCommand() && interaction.commandName === "imagine") {
    await interaction.deferReply();
    const prompt = interaction.options.getString("prompt", true);
    await interaction.editReply({
      content: `**${prompt}** — <@${interaction.user.id}>`,
      files: [new AttachmentBuilder(PNG, { name: "grid.png" })],
      components: [gridRow()],
    });
    return;
  }
  if (interaction.isButton() && interaction.customId.startsWith("upscale:")) {
    const requesterId = interaction.message.interactionMetadata?.user.id;
    await interaction.update({
      content: `Upscaling for <@${interaction.user.id}>`,
      components: [gridRow(true)],
    });
    await interaction.followUp({
      content: `Image ${interaction.customId.slice("upscale:".length)} (requested by <@${requesterId}>)`,
      files: [new AttachmentBuilder(PNG, { name: "upscaled.png" })],
    });
  }
};

describe("FakeDiscord driven by the real discord.js client", () => {
  let fake: FakeDiscord;
  let client: Client;
  let handler: Handler = imagineHandler;
  const handlerErrors: unknown[] = [];
  const clientErrors: unknown[] = [];
  const unhandledRejections: unknown[] = [];
  const onUnhandledRejection = (reason: unknown) => {
    unhandledRejections.push(reason);
  };

  /** Logs a fresh client in and resolves once discord.js says it is ready (guild cached). */
  async function startClient(): Promise<Client> {
    const next = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.restBaseUrl } });
    // discord.js swallows listener failures into `error`; collect them so the test can fail on them.
    next.on(Events.Error, (error) => clientErrors.push(error));
    next.on(Events.InteractionCreate, (interaction) => {
      handler(interaction).catch((error: unknown) => handlerErrors.push(error));
    });
    const ready = once(next, Events.ClientReady);
    await next.login(fake.botToken);
    await ready;
    return next;
  }

  beforeAll(async () => {
    process.on("unhandledRejection", onUnhandledRejection);
    // A short heartbeat interval proves HEARTBEAT/ACK works within the test's lifetime.
    fake = await FakeDiscord.start({ heartbeatIntervalMs: 250 });
    client = await startClient();
    await client.application?.commands.set(COMMANDS.map((command) => command.toJSON()));
  });

  afterEach(() => {
    handler = imagineHandler;
    fake.clearFaults();
    expect(handlerErrors).toEqual([]);
    expect(clientErrors).toEqual([]);
    expect(unhandledRejections).toEqual([]);
    expect(fake.serverErrors).toEqual([]);
  });

  afterAll(async () => {
    await client?.destroy();
    await fake?.stop();
    process.off("unhandledRejection", onUnhandledRejection);
  });

  it("logs in over the fake gateway with plain JSON and caches the guild and channel", async () => {
    expect(fake.identifies).toHaveLength(1);
    expect(fake.identifies[0]?.query).toEqual({ v: "10", encoding: "json" });
    expect(client.user?.id).toBe(fake.botUserId);
    expect(client.application?.id).toBe(fake.applicationId);
    expect(client.guilds.cache.get(fake.guildId)?.available).toBe(true);
    expect(client.channels.cache.get(fake.channelId)?.isTextBased()).toBe(true);
    expect((await client.application?.fetch())?.id).toBe(fake.applicationId);
  });

  it("stores the commands registered with application.commands.set", () => {
    const registered = fake.registeredCommands();
    expect(registered.map((command) => command.name)).toEqual(["imagine", "settings"]);
    expect(registered[0]?.options?.map((option) => option.name)).toEqual(["prompt", "image"]);
    expect(client.application?.commands.cache.map((command) => command.name).sort()).toEqual([
      "imagine",
      "settings",
    ]);
  });

  it("delivers a deferred reply edited with content, a PNG attachment and buttons", async () => {
    const alice = fake.makeUser("alice");
    const handle = await fake.runSlashCommand({
      name: "imagine",
      options: { prompt: "a red fox" },
      user: alice,
    });

    const reply = await handle.waitForOriginalMessage();

    expect(handle.callbacks.map((callback) => callback.type)).toEqual([5]);
    expect(reply.content).toBe(`**a red fox** — <@${alice.id}>`);
    expect(reply.editCount).toBe(1);
    expect(reply.api.interaction_metadata?.user.id).toBe(alice.id);
    expect(buttonsOf(reply)).toEqual([
      { custom_id: "upscale:1", label: "U1" },
      { custom_id: "upscale:2", label: "U2" },
      { custom_id: "upscale:3", label: "U3" },
      { custom_id: "upscale:4", label: "U4" },
      { custom_id: "reroll", label: undefined },
    ]);
    const [grid] = reply.attachments;
    expect(grid?.filename).toBe("grid.png");
    expect(grid?.contentType).toBe("image/png");
    expect(grid?.bytes.equals(PNG)).toBe(true);
    // The attachment URL is served by the fake, so a test can download and decode the grid.
    const downloaded = Buffer.from(await (await fetch(grid?.url ?? "")).arrayBuffer());
    expect(downloaded.equals(PNG)).toBe(true);

    const edit = fake.requestsTo(/^\/webhooks\/\d+\/[^/]+\/messages\/@original$/, "PATCH")[0];
    expect(edit?.rawPath.endsWith("/messages/%40original")).toBe(true);
    expect(edit?.files.map((file) => file.fieldName)).toEqual(["files[0]"]);
    expect(fake.requests.every((request) => !("authorization" in request.headers))).toBe(true);
  });

  it("answers a button click with update and a follow-up", async () => {
    const requester = fake.makeUser("requester");
    const clicker = fake.makeUser("clicker");
    const command = await fake.runSlashCommand({
      name: "imagine",
      options: { prompt: "owl" },
      user: requester,
    });
    const grid = await command.waitForOriginalMessage();

    const click = await fake.clickButton({ message: grid, customId: "upscale:2", user: clicker });
    const followUp = await click.waitForFollowUp();

    expect(click.callbacks.map((callback) => callback.type)).toEqual([7]);
    const updated = fake.messageById(grid.id);
    expect(updated?.content).toBe(`Upscaling for <@${clicker.id}>`);
    expect(updated?.edits.map((edit) => edit.source)).toEqual([
      "interaction-webhook",
      "interaction-callback",
    ]);
    // `update` without files keeps the grid attachment.
    expect(updated?.attachments[0]?.bytes.equals(PNG)).toBe(true);
    expect(updated?.components).toEqual([gridRow(true).toJSON()]);
    expect(followUp.content).toBe(`Image 2 (requested by <@${requester.id}>)`);
    expect(followUp.api.interaction_metadata?.user.id).toBe(clicker.id);
    expect(followUp.attachments[0]?.bytes.equals(PNG)).toBe(true);
    await expect(fake.clickButton({ message: grid, customId: "upscale:2" })).rejects.toThrow(/disabled/);
  });

  it("serves attachment options so the bot can download them, and records plain replies", async () => {
    handler = async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      const image = interaction.options.getAttachment("image", true);
      const bytes = Buffer.from(await (await fetch(image.url)).arrayBuffer());
      await interaction.reply({ content: `got ${image.name}: ${bytes.equals(PNG) ? "intact" : "corrupt"}` });
    };

    const handle = await fake.runSlashCommand({
      name: "imagine",
      options: { prompt: "like this" },
      attachments: { image: { filename: "ref.png", bytes: PNG, contentType: "image/png" } },
    });

    const reply = await handle.waitForOriginalMessage();
    expect(handle.callbacks.map((callback) => callback.type)).toEqual([4]);
    expect(reply.content).toBe("got ref.png: intact");
    expect(reply.editCount).toBe(0);
  });

  it("lets discord.js ride out injected 429s: the edit still lands", async () => {
    const rateLimited: number[] = [];
    const onRateLimited = (info: { retryAfter: number }) => rateLimited.push(info.retryAfter);
    client.rest.on(RESTEvents.RateLimited, onRateLimited);
    fake.rateLimitNext(2, { route: /\/messages\/@original$/, method: "PATCH", retryAfterMs: 150 });

    const handle = await fake.runSlashCommand({ name: "imagine", options: { prompt: "slow fox" } });
    const reply = await handle.waitForOriginalMessage();
    const editRoute = new RegExp(`/${handle.token}/messages/@original$`);
    await fake.waitForRequest(editRoute, { method: "PATCH", status: 200 });
    client.rest.off(RESTEvents.RateLimited, onRateLimited);

    expect(reply.content).toContain("slow fox");
    const attempts = fake.requestsTo(editRoute, "PATCH");
    expect(attempts.map((attempt) => attempt.status)).toEqual([429, 429, 200]);
    expect(attempts[0]?.response).toMatchObject({ retry_after: 0.15, global: false });
    expect(rateLimited.length).toBeGreaterThanOrEqual(2);
    // discord.js honoured Retry-After before retrying (a lower bound only: no speed assertion).
    const [first, second] = attempts;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(100);
  });

  it("rejects editReply with 50027 once the token expired, while a bot-token edit still works", async () => {
    const release = deferred<void>();
    const outcome = deferred<{ error: unknown; content: string }>();
    handler = async (interaction) => {
      if (!interaction.isChatInputCommand() || !interaction.channel) return;
      const response = await interaction.deferReply({ withResponse: true });
      const messageId = response.resource?.message?.id ?? "";
      await release.promise;
      const error = await interaction.editReply("too late").then(
        () => undefined,
        (rejection: unknown) => rejection,
      );
      const edited = await interaction.channel.messages.edit(messageId, {
        content: "delivered with the bot token",
      });
      outcome.resolve({ error, content: edited.content });
    };

    const handle = await fake.runSlashCommand({ name: "imagine", options: { prompt: "a long job" } });
    await handle.waitForCallback();
    handle.expireToken();
    release.resolve();
    const { error, content } = await outcome.promise;

    expect(error).toBeInstanceOf(DiscordAPIError);
    expect(error).toMatchObject({ code: 50027, status: 401 });
    expect(content).toBe("delivered with the bot token");
    const message = handle.originalMessage();
    expect(message?.content).toBe("delivered with the bot token");
    expect(message?.edits.map((edit) => edit.source)).toEqual(["bot-token"]);
    const channelEdit = fake.requestsTo(/^\/channels\/\d+\/messages\/\d+$/, "PATCH").at(-1);
    expect(channelEdit).toMatchObject({ status: 200, botAuth: true });
  });

  it("opens a modal and receives its submission", async () => {
    handler = async (interaction) => {
      if (interaction.isChatInputCommand()) {
        const stylize = new TextInputBuilder().setCustomId("stylize").setStyle(TextInputStyle.Short);
        const label = new LabelBuilder().setLabel("Stylize").setTextInputComponent(stylize);
        await interaction.showModal(
          new ModalBuilder().setCustomId("settings").setTitle("Settings").addLabelComponents(label),
        );
      } else if (interaction.isModalSubmit()) {
        const stylize = interaction.fields.getTextInputValue("stylize");
        await interaction.reply({ content: `stylize=${stylize}`, flags: MessageFlags.Ephemeral });
      }
    };

    const opener = await fake.runSlashCommand({ name: "settings" });
    await opener.waitForCallback();
    expect(opener.modal?.title).toBe("Settings");
    const submit = await fake.submitModal({
      customId: "settings",
      fields: { stylize: "250" },
      openedBy: opener,
    });
    const reply = await submit.waitForOriginalMessage();

    expect(reply.content).toBe("stylize=250");
    expect(reply.ephemeral).toBe(true);
  });

  it("replaces the thinking message with the first follow-up, and deleteReply removes it", async () => {
    const deleted = deferred<void>();
    handler = async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      await interaction.followUp({ content: "first follow-up" });
      await interaction.followUp({ content: "second follow-up" });
      await interaction.deleteReply();
      deleted.resolve();
    };

    const handle = await fake.runSlashCommand({ name: "imagine", options: { prompt: "x" } });
    await deleted.promise;

    const original = fake.messageById(handle.originalMessage()?.id ?? "");
    expect(original).toMatchObject({ content: "first follow-up", ephemeral: true, deleted: true });
    expect(handle.followUps().map((message) => message.content)).toEqual(["second follow-up"]);
  });

  it("answers 10062 to a late first response when the deadline is enforced", async () => {
    const outcome = deferred<unknown>();
    handler = async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      await new Promise((resolve) => setTimeout(resolve, 60));
      outcome.resolve(
        await interaction.deferReply().then(
          () => undefined,
          (error: unknown) => error,
        ),
      );
    };
    fake.enforceThreeSeconds = true;
    fake.responseDeadlineMs = 20;

    try {
      const handle = await fake.runSlashCommand({ name: "imagine", options: { prompt: "too slow" } });
      expect(await outcome.promise).toMatchObject({ code: 10062, status: 404 });
      expect(handle.acknowledged).toBe(false);
    } finally {
      fake.enforceThreeSeconds = false;
      fake.responseDeadlineMs = 3_000;
    }
  });

  it("answers heartbeats so discord.js keeps the connection", async () => {
    await fake.waitFor(() => fake.heartbeatsReceived >= 2, 5_000, "two heartbeats");
    expect(fake.identifies).toHaveLength(1);
  });

  it("accepts a new IDENTIFY after the client is destroyed and a new one logs in", async () => {
    await client.destroy();
    await fake.waitFor(() => !fake.botConnected, 5_000, "the old client to disconnect");

    client = await startClient();
    const handle = await fake.runSlashCommand({ name: "imagine", options: { prompt: "after restart" } });
    const reply = await handle.waitForOriginalMessage();

    expect(fake.identifies).toHaveLength(2);
    expect(reply.content).toContain("after restart");
  });

  it("stops cleanly: no listener is left on the port", async () => {
    const stopped = await FakeDiscord.start();
    const gateway = `${stopped.restBaseUrl}/v10/gateway`;
    expect((await fetch(gateway)).status).toBe(200);
    await stopped.stop();
    await expect(fetch(gateway)).rejects.toThrow();
  });
});

function buttonsOf(message: FakeMessage): { custom_id: string | undefined; label: string | undefined }[] {
  return message.components.flatMap((row) =>
    "components" in row
      ? row.components.map((component) => ({
          custom_id: "custom_id" in component ? component.custom_id : undefined,
          label: "label" in component ? component.label : undefined,
        }))
      : [],
  );
}

describe("FakeDiscord's HTTP interactions sent by another poster", () => {
  it("takes the poster's clock for when an interaction went out and when its answer came in", async () => {
    const posted: string[] = [];
    const fake = await FakeDiscord.start({
      interactions: "http",
      requireRegisteredCommands: false,
      postInteraction: async (url, request) => {
        posted.push(url);
        const { type } = JSON.parse(request.body) as { type: number };
        const forged = /^0+$/.test(request.signature);
        const answer = type === 1 ? { type: 1 } : { type: 5 };
        return {
          status: forged ? 401 : 200,
          contentType: "application/json",
          body: Buffer.from(JSON.stringify(answer)),
          ...(type === 1 ? {} : { sentAt: 1_000, receivedAt: 1_012 }),
        };
      },
    });
    try {
      await fake.interactionsEndpoint?.configure(["http://bot.invalid/interactions"]);
      const handle = await fake.runSlashCommand({ name: "imagine", options: { prompt: "a fox" } });
      await fake.waitFor(() => handle.acknowledged, 2_000, "the answer");
      expect(posted).toEqual(Array(3).fill("http://bot.invalid/interactions"));
      expect(handle.sentAt).toBe(1_000);
      expect(handle.callbacks.map(({ type, at, via }) => ({ type, at, via }))).toEqual([
        { type: 5, at: 1_012, via: "http-response" },
      ]);
    } finally {
      await fake.stop();
    }
  });
});
