import { startGeminiEmulator } from "/work/main/emulators/index.ts";
import { execFileSync } from "node:child_process";
const e = await startGeminiEmulator({ apiKey: "k-0123456789" });
for (const [key, model] of [["wrong-0123456789", "gemini-3.1-flash-image"], ["k-0123456789", "gemini-9"]]) {
  try {
    execFileSync(process.execPath, ["/work/main/bin/atelier.mjs", "imagine", "a fox", "--out", "/tmp/out-peek"], {
      env: { PATH: process.env.PATH, PROVIDER: "gemini", GEMINI_API_KEY: key, GEMINI_IMAGE_MODEL: model, GEMINI_BASE_URL: e.baseUrl, POLL_INTERVAL_SECONDS: "0.1" }, stdio: "pipe" }); console.log("OK?");
  } catch (err) { console.log("ERR", String((err as {stderr: Buffer}).stderr), String(err)); }
}
await e.stop();
