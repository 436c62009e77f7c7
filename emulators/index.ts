// Provider emulators for tests and local runs, with the plumbing and image helpers they share.
export * from "./evolink.ts";
export * from "./http.ts";
export * from "./images.ts";
export * from "./midjourney-proxy.ts";
export * from "./mjapi.ts";
