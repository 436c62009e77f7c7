// Provider emulators for tests and local runs, with the plumbing and image helpers they share.
export * from "./a1111.ts";
export * from "./bfl.ts";
export * from "./comfyui.ts";
export * from "./evolink.ts";
export * from "./gemini.ts";
export * from "./http.ts";
export * from "./images.ts";
export * from "./midjourney-proxy.ts";
export * from "./mjapi.ts";
export * from "./openai.ts";
