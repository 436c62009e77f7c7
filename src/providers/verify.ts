// At start, one cheap authenticated read proves a provider's key and base URL: asking for a task
// that does not exist. "Not found" means both are right; a refused key or a server that does not
// answer like the API becomes a clear error naming the setting to fix.
import { ProviderError } from "./types.ts";

export interface ProbeSettings {
  label: string;
  /** e.g. "EVOLINK_API_KEY" */
  keySetting: string;
  /** e.g. "EVOLINK_BASE_URL" */
  urlSetting: string;
}

/** The id asked for: no real task has it. */
export const probeTaskId = "atelier-start-check";

export async function verifyByProbe(settings: ProbeSettings, probe: () => Promise<unknown>): Promise<void> {
  try {
    await probe();
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    if (error.kind === "auth")
      throw new ProviderError(
        "auth",
        `${settings.label} refused the key in ${settings.keySetting}: check it (no spaces, not expired) or create a new one.`,
        { cause: error },
      );
    const notFound = error.code === "404" || error.code === "task_not_found";
    if (
      error.kind === "transient" ||
      error.code === "unreadable_response" ||
      (error.kind === "internal" && !notFound)
    )
      throw new ProviderError(
        "internal",
        `${settings.label} did not answer like its API at ${settings.urlSetting}: ${error.message} Check the URL.`,
        { cause: error },
      );
    // Anything else (not found, invalid id) came from the API itself, with the key accepted.
  }
}
