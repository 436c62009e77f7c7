// The rule for tests that need an external program: run when present, skip with one line when
// absent, fail naming the program when absent and CI_REQUIRE_SERVICES=1.
import { describe, expect, it } from "vitest";
import {
  decide,
  type ExternalProgram,
  isPresent,
  requirePresent,
  servicesRequired,
  skipNotice,
} from "./services.ts";

const installed: ExternalProgram = {
  name: "redis-server",
  tests: "Redis store tests",
  install: "apt-get install -y redis-server",
  isInstalled: () => true,
};
const missing: ExternalProgram = { ...installed, isInstalled: () => false };

describe("tests that need an external program", () => {
  it("run when it is present, are skipped when absent, and run (to fail) when CI requires it", () => {
    expect(decide(true, false)).toBe("run");
    expect(decide(true, true)).toBe("run");
    expect(decide(false, false)).toBe("skip");
    expect(decide(false, true)).toBe("run");
    expect(servicesRequired({ CI_REQUIRE_SERVICES: "1" })).toBe(true);
    expect(servicesRequired({})).toBe(false);
  });

  it("say in one line what was skipped and how CI gets it", () => {
    expect(skipNotice(missing)).toBe(
      "redis-server not installed: Redis store tests skipped (CI installs it: apt-get install -y redis-server)",
    );
  });

  it("fail naming the missing program and how to install it", () => {
    expect(() => requirePresent(installed, {})).not.toThrow();
    expect(() => requirePresent(missing, {})).toThrow(
      "redis-server is not installed, and the Redis store tests need it: run `apt-get install -y redis-server` (.ci/run does this).",
    );
    expect(() => requirePresent(missing, { CI_REQUIRE_SERVICES: "1" })).toThrow(
      /CI_REQUIRE_SERVICES=1 makes its absence a failure/,
    );
  });

  it("can be told a program is absent, to try the rule on a machine that has it", () => {
    expect(isPresent(installed, {})).toBe(true);
    expect(isPresent(installed, { ATELIER_TEST_WITHOUT: "chromium, redis-server" })).toBe(false);
    expect(isPresent(installed, { ATELIER_TEST_WITHOUT: "chromium" })).toBe(true);
  });
});
