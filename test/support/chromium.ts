// Where browser tests find Chromium (`/usr/bin/chromium`, what `apt-get install chromium` gives).
// Tests that drive it are wrapped in `describe.runIf(chromiumTestsRun)`: without it they are skipped
// with one line of notice, unless CI_REQUIRE_SERVICES=1 (set by `.ci/run`, which installs it),
// where they fail instead.
import { existsSync } from "node:fs";
import { type ExternalProgram, requirePresent, shouldRun } from "./services.ts";

export const chromiumPath = "/usr/bin/chromium";

export const chromium: ExternalProgram = {
  name: "chromium",
  tests: "browser tests",
  install: "apt-get install -y chromium",
  isInstalled: () => existsSync(chromiumPath),
};

/** Whether the tests that drive Chromium run here (see test/support/services.ts). */
export const chromiumTestsRun = shouldRun(chromium);

/** The browser's executable, or a clear failure naming what to install. */
export function chromiumExecutable(): string {
  requirePresent(chromium);
  return chromiumPath;
}
