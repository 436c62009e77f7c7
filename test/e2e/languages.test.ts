// Languages end to end: a French server sees its jobs' public messages in French, whoever clicks;
// a German-speaking member gets private answers in German; the commands are registered with their
// French and German names and descriptions.
import { Locale } from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buttonRows, customIdOf, isFinished, startWorld, type World } from "./world.ts";

let world: World;
beforeAll(async () => {
  world = await startWorld({ taskDurationMs: 300 });
  world.fake.setGuildLocale(Locale.French);
});
afterAll(async () => {
  await world?.stop();
});

describe("languages", () => {
  it("registers every command with French and German descriptions, and local names where natural", async () => {
    await world.fake.runSlashCommand({ name: "help" }).then((run) => run.waitForCallback());
    const registered = world.fake.registeredCommands(world.fake.guildId);
    const imagine = registered.find((command) => command.name === "imagine");
    expect(imagine?.description).toBe("Create images from a prompt");
    expect(imagine?.description_localizations).toEqual({
      fr: "Créer des images à partir d'un prompt",
      de: "Bilder aus einem Prompt erstellen",
    });
    expect(imagine?.options?.[0]?.description_localizations?.fr).toContain("--ar 16:9");
    const help = registered.find((command) => command.name === "help");
    expect(help?.name_localizations).toEqual({ fr: "aide", de: "hilfe" });
    for (const command of registered)
      expect(Object.keys(command.description_localizations ?? {})).toEqual(["fr", "de"]);
  });

  it("shows /imagine's progress, grid and a clicked follow-up in the server's French", async () => {
    const ada = world.fake.makeUser("ada");
    const run = await world.fake.runSlashCommand({
      name: "imagine",
      options: { prompt: "a red fox" },
      user: ada,
    });
    const original = await run.waitForOriginalMessage();
    expect(original.content).toBe(`**a red fox** - <@${ada.id}> (En attente de démarrage)`);
    const grid = await world.fake.waitForMessage(
      (message) => message.id === original.id && isFinished(message),
      15_000,
    );
    expect(grid.content).toBe(`**a red fox** - <@${ada.id}> (rapide)`);
    const progress = world.fake.edits(original.id).map((revision) => revision.content);
    expect(progress.some((content) => /\(\d+%\) \(rapide\)/.test(content))).toBe(true);

    // A German-speaking member clicks: the new public message still speaks the server's French.
    const hans = world.fake.makeUser("hans");
    world.fake.setUserLocale(hans, Locale.German);
    const click = await world.fake.clickButton({
      message: grid,
      customId: customIdOf(grid, "U1"),
      user: hans,
    });
    const single = await click.waitForFollowUp((message) => isFinished(message));
    expect(single.content).toBe(`**a red fox** - Image n° 1 <@${hans.id}>`);
    expect(buttonRows(single)).toEqual([
      ["Varier (subtil)", "Varier (fort)", "Relancer en HD"],
      ["Ouvrir en taille réelle"],
    ]);
  });

  it("notes how the prompt was read in the server's French, under the job's message", async () => {
    const ada = world.fake.makeUser("ada-notes");
    const run = await world.fake.runSlashCommand({
      name: "imagine",
      options: { prompt: "a grey wolf —ar 3:2" },
      user: ada,
    });
    const original = await run.waitForOriginalMessage();
    expect(original.content).toBe(
      `**a grey wolf --ar 3:2** - <@${ada.id}> (En attente de démarrage)\n-# ⚠️ “—ar” lu comme “--ar” (les téléphones transforment -- en —)`,
    );
    await world.fake.waitForMessage((message) => message.id === original.id && isFinished(message), 15_000);
  });

  it("answers a German-speaking member privately in German", async () => {
    const hans = world.fake.makeUser("hans-private");
    world.fake.setUserLocale(hans, Locale.German);
    const settings = await world.fake.runSlashCommand({ name: "settings", user: hans });
    const panel = await settings.waitForPrivateAnswer();
    expect(panel.ephemeral).toBe(true);
    expect(panel.content).toMatch(/^\*\*Deine Einstellungen\*\* — Standardwerte für deine Prompts/);
    expect(buttonRows(panel).flat()).toContain("Zurücksetzen");

    const bad = await world.fake.runSlashCommand({
      name: "imagine",
      options: { prompt: "a cat --ar banana" },
      user: hans,
    });
    const reply = await bad.waitForPrivateAnswer();
    expect(reply.ephemeral).toBe(true);
    expect(reply.content).toMatch(/^\*\*Ungültiger Prompt\*\* — /);

    // The same member with an English client for one interaction is answered in English.
    const english = await world.fake.runSlashCommand({
      name: "settings",
      user: hans,
      locale: Locale.EnglishUS,
    });
    expect((await english.waitForOriginalMessage()).content).toMatch(/^\*\*Your settings\*\*/);
  });
});
