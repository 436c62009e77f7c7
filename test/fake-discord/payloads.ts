// Moved to src/fake-discord/payloads.ts; kept for the tests that import it from here.
export * from "../../src/fake-discord/payloads.ts";
