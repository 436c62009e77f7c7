// Provider emulators for tests and local runs. The EvoLink emulator and the image helpers are
// re-exported whole; the other emulators by name, since their helper types share names with EvoLink's.
export * from "./evolink.ts";
export * from "./images.ts";
export {
  type MidjourneyProxyEmulator,
  type MidjourneyProxyEmulatorOptions,
  type MidjourneyProxyKnobs,
  startMidjourneyProxyEmulator,
} from "./midjourney-proxy.ts";
export {
  type MjapiEmulator,
  type MjapiEmulatorOptions,
  type MjapiKnobs,
  startMjapiEmulator,
} from "./mjapi.ts";
