// A local playground: `node bin/run-ts.mjs emulators/serve.ts evolink` serves an emulator
// so the bot or `atelier imagine` can run end to end without a real image service.
import { startEvolinkEmulator } from "./evolink.ts";
import { startMidjourneyProxyEmulator } from "./midjourney-proxy.ts";
import { startMjapiEmulator } from "./mjapi.ts";

const kind = process.argv[2] ?? "evolink";
const apiKey = process.env.EMULATOR_API_KEY ?? "playground-key";
const shared = { taskDurationMs: 8_000, tileLongSide: 1024 };

const emulator =
  kind === "evolink"
    ? await startEvolinkEmulator({ ...shared, apiKey })
    : kind === "mjapi"
      ? await startMjapiEmulator({ ...shared, apiKey })
      : kind === "midjourney-proxy"
        ? await startMidjourneyProxyEmulator({ ...shared, apiSecret: apiKey })
        : undefined;

if (!emulator) {
  console.error("usage: node bin/run-ts.mjs emulators/serve.ts evolink|mjapi|midjourney-proxy");
  process.exit(2);
}
console.log(`${kind} emulator at ${emulator.baseUrl} (API key: ${apiKey}); Ctrl+C to stop`);
const stop = () => void emulator.stop().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
