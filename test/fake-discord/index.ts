// The fake Discord moved into the product (src/fake-discord/) so the playground can run on it; the
// tests keep importing it from here.
export * from "../../src/fake-discord/index.ts";
