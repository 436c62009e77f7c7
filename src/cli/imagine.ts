// `atelier imagine "<prompt>" --out DIR`: the bot's pipeline without Discord. Same settings,
// same provider, same images; progress on the terminal, files in DIR, one clear line on failure.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { baseUrlsFor, type ProviderName, type Settings, secretValues } from "../config.ts";
import { warningText } from "../discord/warning-text.ts";
import type { DownloadPolicy } from "../images/download.ts";
import { renderResultSet } from "../images/result-set.ts";
import { type PreparedJob, preparePrompts } from "../jobs/pipeline.ts";
import { trackTask } from "../jobs/track.ts";
import { createLogger } from "../log.ts";
import { renderPrompt } from "../prompt/index.ts";
import { createProviders, memoryBlobs, type ProviderRegistry } from "../providers/index.ts";
import {
  type ImageProvider,
  mergeWarnings,
  ProviderError,
  type Quality,
  type Speed,
  type TaskSnapshot,
} from "../providers/types.ts";
import { inlineBlobLinks, type ResultBlobs } from "../store/blobs.ts";

const adviceText = { retry: "try again", rephrase: "change the prompt", admin: "tell an admin" } as const;

/** What the command line gave (parsed by src/cli/main.ts); speed and quality default to the settings. */
export interface ImagineOptions {
  prompt: string;
  out: string;
  speed?: string;
  quality?: string;
  /** One of the configured providers; the default (first in PROVIDER) when absent. */
  provider?: string;
}

interface ImagineArgs {
  prompt: string;
  out: string;
  speed: Speed;
  quality: Quality;
  provider?: string;
}

const speeds: readonly string[] = ["draft", "fast", "turbo", "relax"];
const qualities: readonly string[] = ["standard", "hd"];

function readArgs(options: ImagineOptions, settings: Settings): ImagineArgs {
  const prompt = options.prompt.trim();
  if (!prompt) throw new UsageError("atelier imagine: the prompt is empty");
  if (!options.out) throw new UsageError("atelier imagine: --out DIR is required");
  const speed = options.speed ?? settings.DEFAULT_SPEED;
  const quality = options.quality ?? settings.DEFAULT_QUALITY;
  if (!speeds.includes(speed))
    throw new UsageError("atelier imagine: --speed must be draft, fast, turbo or relax");
  if (!qualities.includes(quality)) throw new UsageError("atelier imagine: --quality must be standard or hd");
  return {
    prompt,
    out: options.out,
    speed: speed as Speed,
    quality: quality as Quality,
    provider: options.provider,
  };
}

/** A command line that cannot run as given: exit 2, nothing sent. */
class UsageError extends Error {}

const EXIT_USAGE = 2;

/**
 * `--out` must be able to hold the images before a job the team pays for is sent: the directory is
 * created when missing and written to once. Returns its absolute path.
 */
async function prepareOutDir(out: string): Promise<string> {
  const dir = resolve(out);
  try {
    await mkdir(dir, { recursive: true });
    const probe = join(dir, `.atelier-write-test-${process.pid}`);
    await writeFile(probe, "");
    await rm(probe, { force: true });
  } catch (error) {
    throw new UsageError(`atelier imagine: --out ${out} cannot hold the images: ${outDirProblem(error)}.`);
  }
  return dir;
}

function outDirProblem(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case "EEXIST":
      return "it is a file, not a directory";
    case "ENOTDIR":
      return "part of the path is a file, not a directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EROFS":
      return "the file system is read-only";
    default:
      return (error as Error).message;
  }
}

function progressPrinter(label: string) {
  const interactive = process.stderr.isTTY === true;
  let lastLine = "";
  return {
    update(snapshot: TaskSnapshot) {
      const percent =
        snapshot.status === "completed" ? 100 : Math.max(0, Math.min(100, snapshot.progress ?? 0));
      const filled = Math.round(percent / 5);
      const state = snapshot.queuePosition ? `queued, ${snapshot.queuePosition} ahead` : snapshot.status;
      const line = `${label} [${"#".repeat(filled)}${".".repeat(20 - filled)}] ${String(percent).padStart(3)}% ${state}`;
      if (line === lastLine) return;
      lastLine = line;
      process.stderr.write(interactive ? `\r${line}` : `${line}\n`);
    },
    done() {
      if (interactive && lastLine) process.stderr.write("\n");
    },
  };
}

async function runOne(
  blobs: ResultBlobs,
  provider: ImageProvider,
  job: PreparedJob,
  settings: Settings,
  outDir: string,
  label: string,
): Promise<string[]> {
  const { prompt } = job;
  for (const warning of prompt.warnings) process.stderr.write(`note: ${warning}\n`);
  const progress = progressPrinter(label);
  const submitted = await provider.imagine({ prompt, speed: job.speed, quality: job.quality });
  for (const warning of mergeWarnings(job.providerWarnings, submitted.warnings)) {
    process.stderr.write(`note: ${warningText(warning)}\n`);
  }
  const snapshot =
    submitted.kind === "done"
      ? submitted.snapshot
      : await trackTask(provider, submitted.taskId, {
          pollIntervalMs: settings.POLL_INTERVAL_SECONDS * 1000,
          startedAt: Date.now(),
          timeoutMs: (settings.TASK_TIMEOUT_MINUTES ?? 0) * 60_000 || provider.capabilities.maxTaskDurationMs,
          onUpdate: (update) => progress.update(update),
        });
  progress.update(snapshot);
  progress.done();
  const policy: DownloadPolicy = {
    allowedHttpOrigins: baseUrlsFor(settings, provider.name as ProviderName),
    maxBytes: settings.MAX_IMAGE_MB * 1024 * 1024,
    timeoutMs: 120_000,
  };
  const set = await renderResultSet(await inlineBlobLinks(blobs, snapshot), policy, { separate: true });
  await mkdir(outDir, { recursive: true });
  const written = [join(outDir, set.shown.fileName)];
  await writeFile(written[0] as string, set.shown.bytes);
  for (const [index, image] of set.images.entries()) {
    const path = join(outDir, `${index + 1}.${image.format === "jpeg" ? "jpg" : image.format}`);
    await writeFile(path, image.bytes);
    written.push(path);
  }
  return written;
}

function describeFailure(error: unknown): string {
  if (error instanceof ProviderError) {
    const reason = error.reason ? ` (${error.reason})` : "";
    return `atelier imagine: ${error.message}${reason} — ${adviceText[error.advice]}.`;
  }
  return `atelier imagine: ${(error as Error).message}`;
}

/** Exit 0 when the images are written, 1 when the prompt or the job fails, 2 for a bad command line. */
export async function runImagine(options: ImagineOptions, settings: Settings): Promise<number> {
  const logger = createLogger({
    level: settings.LOG_LEVEL,
    format: settings.LOG_FORMAT,
    secrets: secretValues(settings),
  });
  let args: ImagineArgs;
  try {
    args = readArgs(options, settings);
    args.out = await prepareOutDir(args.out);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return error instanceof UsageError ? EXIT_USAGE : 1;
  }
  const blobs = memoryBlobs();
  const providers = createProviders(settings, logger, { blobs });
  try {
    const provider = chosenProvider(providers, args.provider);
    const prepared = preparePrompts(args.prompt, provider, {
      maxJobs: settings.PROMPT_MAX_JOBS,
      speed: args.speed,
      quality: args.quality,
    });
    if (!prepared.ok) {
      process.stderr.write(`atelier imagine: ${prepared.error.message}\n`);
      return 1;
    }
    const several = prepared.jobs.length > 1;
    for (const [index, job] of prepared.jobs.entries()) {
      const outDir = several ? join(resolve(args.out), String(index + 1)) : resolve(args.out);
      const label = several ? `${index + 1}/${prepared.jobs.length}` : "imagine";
      if (several) process.stderr.write(`${label}: ${renderPrompt(job.prompt)}\n`);
      const written = await runOne(blobs, provider, job, settings, outDir, label);
      for (const path of written) process.stdout.write(`${path}\n`);
    }
    return 0;
  } catch (error) {
    process.stderr.write(`${describeFailure(error)}\n`);
    return 1;
  } finally {
    await providers.closeAll();
  }
}

/** `--provider NAME` among the configured ones, or the default. */
function chosenProvider(providers: ProviderRegistry, name: string | undefined): ImageProvider {
  if (name === undefined) return providers.default;
  const provider = providers.get(name);
  if (provider) return provider;
  throw new UsageError(
    `--provider ${name} is not configured: PROVIDER lists ${providers.names().join(", ")}.`,
  );
}
