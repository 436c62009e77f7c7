// The playground in a real browser: headless Chromium on the page, the real bot behind it on the fake
// Discord and the EvoLink emulator. What a person does: type /imagine, watch it progress, see the grid,
// press U2 and V1, try private replies as two people, and the remix form.
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.ts";
import { type Playground, startPlayground } from "../../src/playground/playground.ts";
import { chromiumExecutable, chromiumTestsRun } from "../support/chromium.ts";

// The README's screenshot is refreshed on request (UPDATE_SCREENSHOT=1), so a test run leaves git clean.
const screenshotPath = process.env.UPDATE_SCREENSHOT
  ? join(dirname(fileURLToPath(import.meta.url)), "../../docs/playground.png")
  : join(tmpdir(), "atelier-playground.png");
const waitMs = 20_000;
const poll = { timeout: waitMs, interval: 100 };
/** Generous: the machine may be busy with other test files. */
const testTimeoutMs = 90_000;

/** What the test reads of an <img> in the page (the tests are typed without the DOM library). */
interface LoadedImage {
  naturalWidth: number;
  naturalHeight: number;
}

/** The message (list item) that carries a button with this name. */
function messageWith(page: Page, button: string | RegExp): Locator {
  return page.locator("li.message", { has: page.getByRole("button", { name: button, exact: true }) });
}

/** Whether every image in `message` has loaded (a broken one has no natural width). */
async function imagesLoaded(message: Locator): Promise<number> {
  await expect
    .poll(
      () =>
        message
          .locator("img")
          .evaluateAll((images) => images.every((i) => (i as unknown as LoadedImage).naturalWidth > 0)),
      poll,
    )
    .toBe(true);
  return message.locator("img").count();
}

describe.runIf(chromiumTestsRun)("the playground in Chromium", () => {
  let playground: Playground;
  let browser: Browser;
  let page: Page;
  const logLines: string[] = [];

  beforeAll(async () => {
    playground = await startPlayground({
      port: 0,
      logger: createLogger({ level: "warn", write: (line) => logLines.push(line) }),
      taskDurationMs: 2_500,
      imageLongSide: 384,
      progressIntervalMs: 300,
      pollIntervalMs: 100,
    });
    browser = await chromium.launch({
      executablePath: chromiumExecutable(),
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.setDefaultTimeout(waitMs);
    await page.goto(playground.url);
    await page.locator("#connection.live").waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await playground?.stop();
  });

  it("runs /imagine from the message box to a grid, then U2 and V1", { timeout: testTimeoutMs }, async () => {
    const box = page.getByRole("textbox", { name: "Message #general" });
    await box.fill("/imagine a red fox --ar 3:2");
    await box.press("Enter");

    // The job's message edits in place as the job runs: first its progress, then the grid.
    await page
      .locator("li.message .content", { hasText: /\(\d+%\)/ })
      .first()
      .waitFor();
    const grid = messageWith(page, "U2");
    await grid.waitFor();
    await expect.poll(() => grid.locator(".content").textContent(), poll).toContain("a red fox --ar 3:2");
    expect(await grid.locator(".used").textContent()).toBe("ada used /imagine");
    for (const label of ["U1", "U2", "U3", "U4", "V1", "V2", "V3", "V4", "🔄"]) {
      expect(await grid.getByRole("button", { name: label, exact: true }).isEnabled()).toBe(true);
    }
    expect(await imagesLoaded(grid)).toBe(1);
    const shape = await grid.locator("img").evaluate((image) => {
      const { naturalWidth, naturalHeight } = image as unknown as LoadedImage;
      return naturalWidth / naturalHeight;
    });
    expect(shape).toBeCloseTo(3 / 2, 1);

    // U2: image 2 on its own, with its own buttons; the pressed U turns blue.
    await grid.getByRole("button", { name: "U2", exact: true }).click();
    const single = messageWith(page, /Vary \(Subtle\)/);
    await single.waitFor();
    expect(await imagesLoaded(single)).toBe(1);
    await expect
      .poll(() => grid.getByRole("button", { name: "U2", exact: true }).getAttribute("class"), poll)
      .toContain("style-1");

    // V1: a new message that becomes a new grid of its own.
    await grid.getByRole("button", { name: "V1", exact: true }).click();
    const grids = messageWith(page, "V4");
    await expect.poll(() => grids.count(), poll).toBe(2);
    const variation = grids.nth(1);
    expect(await imagesLoaded(variation)).toBe(1);
    const sources = await grids
      .locator("img")
      .evaluateAll((images) => images.map((i) => i.getAttribute("src")));
    expect(new Set(sources).size).toBe(2);

    // The README's picture: the grid, U2's image and V1's grid in one view.
    await page.setViewportSize({ width: 1280, height: 1420 });
    await page.locator("#messages").evaluate((list) => {
      list.scrollTop = list.scrollHeight;
    });
    mkdirSync(dirname(screenshotPath), { recursive: true });
    await page.screenshot({ path: screenshotPath });
    await page.setViewportSize({ width: 1280, height: 1000 });
  });

  it("shows a private reply only to whoever asked, and switches between people", {
    timeout: testTimeoutMs,
  }, async () => {
    const box = page.getByRole("textbox", { name: "Message #general" });
    await page.getByRole("radio", { name: "bo", exact: true }).click();
    await box.fill("/info");
    await box.press("Enter");
    const info = page.locator("li.message[data-ephemeral]", { hasText: "Your Atelier info" });
    await info.waitFor();
    expect(await info.textContent()).toContain("Only you can see this");

    await page.getByRole("radio", { name: "cy", exact: true }).click();
    await expect.poll(() => info.count(), poll).toBe(0);
    // Everyone sees the public grids.
    expect(await messageWith(page, "U1").count()).toBe(2);

    await page.getByRole("radio", { name: "bo", exact: true }).click();
    await info.waitFor();

    // A mistyped command is a private note, and the text stays in the box to fix.
    await box.fill("/imagine a fox --ar 3x2");
    await box.press("Enter");
    await page.locator("li.message[data-ephemeral]", { hasText: "--ar" }).first().waitFor();
  });

  it("opens the remix form for someone with Remix mode on and runs the edited prompt", {
    timeout: testTimeoutMs,
  }, async () => {
    const box = page.getByRole("textbox", { name: "Message #general" });
    await page.getByRole("radio", { name: "cy", exact: true }).click();
    await box.fill("/settings");
    await box.press("Enter");
    const panel = messageWith(page, "Remix mode");
    await panel.getByRole("button", { name: "Remix mode", exact: true }).click();
    await expect.poll(() => panel.locator(".content").textContent(), poll).toContain("Remix on");

    const grid = messageWith(page, "V2").first();
    await grid.getByRole("button", { name: "V2", exact: true }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    const prompt = dialog.getByRole("textbox", { name: /Prompt/ });
    expect(await prompt.inputValue()).toContain("a red fox");
    await prompt.fill("a blue fox at night --ar 3:2");
    await dialog.getByRole("button", { name: "Submit" }).click();

    const remixed = page.locator("li.message", { hasText: "a blue fox at night" });
    await remixed.getByRole("button", { name: "V4", exact: true }).waitFor();
    expect(logLines.filter((line) => line.includes('"level":"error"'))).toEqual([]);
  });
});
