// The Chromium helper works: the browser found there renders a page headless. Skipped (with one
// line of notice) where Chromium is not installed, unless CI_REQUIRE_SERVICES=1.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { chromiumExecutable, chromiumTestsRun } from "./chromium.ts";

describe.runIf(chromiumTestsRun)("Chromium", () => {
  it("renders a page headless", { timeout: 60_000 }, async () => {
    const { stdout } = await promisify(execFile)(
      chromiumExecutable(),
      ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "data:text/html,<p id=atelier>ready</p>"],
      { timeout: 30_000 },
    );
    expect(stdout).toContain('<p id="atelier">ready</p>');
  });
});
