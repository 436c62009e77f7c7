// An in-process AUTOMATIC1111 web UI API (also what Forge and SD.Next serve with `--api`), for
// contract tests, pool tests and local runs. Follows the API's own source:
//   AUTOMATIC1111/stable-diffusion-webui modules/api/api.py — routes, `--api-auth` HTTP basic auth
//     (`Api.auth`: 401 "Incorrect username or password", HTTPBasic's "Not authenticated"), the app's
//     error body `{error, detail, body, errors}` (`handle_exception`), txt2img/img2img run under ONE
//     queue lock (`with self.queue_lock`), `progressapi` (progress = 0.01 + job_no/job_count +
//     sampling_step/sampling_steps/job_count; 0 with no job), `interruptapi` → `{}`,
//     `extras_single_image_api` (also under the lock), `get_upscalers`, `get_sd_models`;
//   modules/api/models.py — TextToImageResponse `{images, parameters, info}`, ProgressResponse
//     `{progress, eta_relative, state, current_image, textinfo}`, ExtrasSingleImageRequest
//     (image, upscaler_1, upscaling_resize, resize_mode …) → `{html_info, image}`, SDModelItem,
//     UpscalerItem; pydantic field types of the generated processing models (422 on a wrong type);
//   modules/processing.py — seeds of a batch (all_seeds = seed + i unless subseed_strength > 0,
//     all_subseeds = subseed + i; -1 = random), `Processed.js()` for `info`;
//   modules/shared_state.py — `state.dict()` keys, `interrupt()`, `end()` keeping `interrupted`;
//   modules/postprocessing.py — an unknown upscaler fails the assertion "could not find upscaler named".
// Result images: solid colours by position in the batch (emulators/images.ts), of the requested
// width × height. While a job runs, /progress carries a preview (a small grid of the
// batch, as with "show progress grid") once a step has run. Fault knobs: `stall` (93%, never done),
// `interruptAtStep` (someone presses Interrupt in the web UI), `hang` (a frozen machine), the shared
// failNext/malformedNext/truncateNext, and `stop()` (a machine that goes away mid-job).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { checkBasicAuth, credentialsOf, decodeImage, previewGrid, upscaleImage } from "./a1111-images.ts";
import {
  appError,
  batchSeeds,
  checkFields,
  defaultSdModels,
  defaultUpscalers,
  infoJson,
  jobTimestamp,
  jsonInvalid,
  type Running,
  randomSeed,
  type SdModel,
  type State,
  samplers,
  validationError,
} from "./a1111-protocol.ts";
import {
  asRecord,
  closeServer,
  type EmulatorHandle,
  FaultQueue,
  listen,
  notProcessed,
  parseBody,
  type RecordedRequest,
  type Reply,
  readBody,
  sendReply,
} from "./http.ts";
import { type ImageFormat, makeResultImage } from "./images.ts";

export type { SdModel } from "./a1111-protocol.ts";

export interface A1111EmulatorOptions {
  /** `--api-auth user:password[,user2:password2]`; without it the API is open. */
  auth?: string;
  /** Time one sampling step takes. Default 10 ms. */
  stepMs?: number;
  models?: readonly SdModel[];
  upscalers?: readonly string[];
  /** Live previews on (`show_progress_every_n_steps` > 0). Default true. */
  livePreviews?: boolean;
  imageFormat?: ImageFormat;
}

export interface A1111Knobs {
  stepMs: number;
  /** Running jobs stop at 93% and never finish until cleared (or interrupted). */
  stall: boolean;
  livePreviews: boolean;
  /** The next job is interrupted from the web UI at this step (it still answers 200 with its images). */
  interruptAtStep: number | undefined;
  /** Requests are taken in and never answered (a frozen machine); cut at stop(). */
  hang: boolean;
  imageFormat: ImageFormat;
}

export interface A1111Emulator extends EmulatorHandle<A1111Knobs> {
  auth?: string;
  models: readonly SdModel[];
  upscalers: readonly string[];
  /** Bodies received by POST /sdapi/v1/txt2img, img2img, extra-single-image (faulted ones included). */
  bodies(route: "txt2img" | "img2img" | "extra-single-image"): Record<string, unknown>[];
  imagesMade(): number;
  /** The most generation requests ever waiting for the queue lock behind a running one. */
  maxWaiting(): number;
  /** Whether a job holds the lock now. */
  busy(): boolean;
}

const api = "/sdapi/v1";
const stallProgress = 0.93;

const num = (value: unknown, fallback: number) => (typeof value === "number" ? value : fallback);
const str = (value: unknown, fallback: string) => (typeof value === "string" ? value : fallback);

export async function startA1111Emulator(options: A1111EmulatorOptions = {}): Promise<A1111Emulator> {
  const credentials = credentialsOf(options.auth);
  const models = options.models ?? defaultSdModels;
  const upscalers = options.upscalers ?? defaultUpscalers;
  const knobs: A1111Knobs = {
    stepMs: options.stepMs ?? 10,
    stall: false,
    livePreviews: options.livePreviews ?? true,
    interruptAtStep: undefined,
    hang: false,
    imageFormat: options.imageFormat ?? "png",
  };
  const requests: RecordedRequest[] = [];
  const faults = new FaultQueue();
  const timers = new Set<NodeJS.Timeout>();
  const jobStamps: string[] = [];
  const state: State = {
    skipped: false,
    interrupted: false,
    stopping_generation: false,
    job: "",
    job_count: 0,
    job_timestamp: "0",
    job_no: 0,
    sampling_step: 0,
    sampling_steps: 0,
  };
  let running: Running | undefined;
  let lock: Promise<unknown> = Promise.resolve();
  let waiting = 0;
  let maxWaiting = 0;
  let imagesMade = 0;
  let stopped = false;

  function wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  }

  /** One job at a time, like `with self.queue_lock`. */
  function locked<T>(work: () => Promise<T>): Promise<T> {
    waiting += 1;
    maxWaiting = Math.max(maxWaiting, waiting - 1);
    const turn = lock.then(() => {
      waiting -= 1;
      return work();
    });
    lock = turn.catch(() => undefined);
    return turn;
  }

  function progressOf(step: number): number {
    if (state.job_count === 0) return 0;
    return 0.01 + state.job_no / state.job_count + step / Math.max(1, state.sampling_steps) / state.job_count;
  }

  /** Runs the sampling steps of one job: the iterations that produced images (fewer when interrupted). */
  async function sample(iterations: number, steps: number): Promise<number> {
    const interruptAt = knobs.interruptAtStep;
    knobs.interruptAtStep = undefined;
    for (let iteration = 0; iteration < iterations; iteration += 1) {
      state.job_no = iteration;
      for (let step = 1; step <= steps; step += 1) {
        await wait(knobs.stepMs);
        while (knobs.stall && progressOf(step) > stallProgress && !state.interrupted && !stopped) {
          if (running) running.stalled = true;
          await wait(5);
        }
        if (running) running.stalled = false;
        if (interruptAt !== undefined && step >= interruptAt) state.interrupted = true;
        if (state.interrupted || stopped) return iteration + 1;
        state.sampling_step = step;
      }
    }
    return iterations;
  }

  async function generate(route: "txt2img" | "img2img", body: Record<string, unknown>): Promise<Reply> {
    const invalid = checkFields(body);
    if (invalid) return invalid;
    const sampler = str(body.sampler_name ?? body.sampler_index, "Euler");
    if (!samplers.includes(sampler)) return appError(404, "HTTPException", "Sampler not found");
    if (route === "img2img") {
      if (!Array.isArray(body.init_images)) return appError(404, "HTTPException", "Init image not found");
      for (const image of body.init_images)
        if (!(await decodeImage(image))) return appError(500, "HTTPException", "Invalid encoded image");
    }
    return locked(() => runGeneration(route, body, sampler));
  }

  async function runGeneration(
    route: string,
    body: Record<string, unknown>,
    sampler: string,
  ): Promise<Reply> {
    const batchSize = num(body.batch_size, 1);
    const iterations = num(body.n_iter, 1);
    const steps = num(body.steps, 50);
    const width = num(body.width, 512);
    const height = num(body.height, 512);
    const stamp = jobTimestamp();
    jobStamps.push(stamp);
    Object.assign(state, {
      job: `scripts_${route}`,
      job_count: iterations,
      job_no: 0,
      job_timestamp: stamp,
      sampling_step: 0,
      sampling_steps: steps,
      interrupted: false,
      skipped: false,
    });
    const count = batchSize * iterations;
    running = {
      colours: Array.from({ length: count }, (_, index) => index),
      width,
      height,
      startedAt: Date.now(),
      stalled: false,
    };
    try {
      const done = await sample(iterations, steps);
      const made = running.colours.slice(0, done * batchSize);
      imagesMade += made.length;
      const format = knobs.imageFormat;
      const images = await Promise.all(
        made.map((index) =>
          makeResultImage({ width, height, index, format }).then((b) => b.toString("base64")),
        ),
      );
      const subseedStrength = num(body.subseed_strength, 0);
      const seed = num(body.seed, -1) === -1 ? randomSeed() : num(body.seed, 0);
      const subseed = num(body.subseed, -1) === -1 ? randomSeed() : num(body.subseed, 0);
      const seeds = batchSeeds(made.length, seed, subseed, subseedStrength);
      const info = infoJson({
        prompt: str(body.prompt, ""),
        negativePrompt: str(body.negative_prompt, ""),
        ...seeds,
        subseedStrength,
        width,
        height,
        sampler,
        cfgScale: num(body.cfg_scale, 7),
        steps,
        batchSize,
        denoisingStrength: route === "img2img" ? num(body.denoising_strength, 0.75) : null,
        model: models[0] as SdModel,
        jobTimestamp: stamp,
      });
      return { status: 200, body: { images, parameters: body, info } };
    } finally {
      running = undefined;
      state.job = "";
      state.job_count = 0;
    }
  }

  async function upscale(body: Record<string, unknown>): Promise<Reply> {
    const image = await decodeImage(body.image);
    if (!image) return appError(500, "HTTPException", "Invalid encoded image");
    const name = str(body.upscaler_1, "None");
    if (!upscalers.includes(name))
      return appError(500, "AssertionError", "", `could not find upscaler named ${name}`);
    const factor = num(body.upscaling_resize, 2);
    if (!(factor > 0))
      return validationError([
        {
          type: "greater_than",
          loc: ["body", "upscaling_resize"],
          msg: "Input should be greater than 0",
          input: factor,
        },
      ]);
    return locked(async () => {
      Object.assign(state, { job: "extras", job_count: 1, job_no: 0, sampling_step: 0, sampling_steps: 0 });
      try {
        await wait(knobs.stepMs * 2);
        const resized = await upscaleImage(image, factor);
        return {
          status: 200,
          body: { html_info: "<p>Postprocess upscale</p>", image: resized.toString("base64") },
        };
      } finally {
        state.job = "";
        state.job_count = 0;
      }
    });
  }

  /** The batch so far as a small grid, as a live preview shows it. */
  function preview(job: Running): Promise<string> {
    job.preview ??= previewGrid(job.colours, job.width, job.height);
    return job.preview;
  }

  async function progress(skipImage: boolean): Promise<Reply> {
    const body: Record<string, unknown> = {
      progress: 0,
      eta_relative: 0,
      state: { ...state },
      textinfo: null,
    };
    if (state.job_count === 0) return { status: 200, body: { ...body, current_image: null } };
    const job = running;
    const value = job?.stalled ? stallProgress : Math.min(1, progressOf(state.sampling_step));
    const elapsed = job ? (Date.now() - job.startedAt) / 1000 : 0;
    const current =
      job && knobs.livePreviews && state.sampling_step > 0 && !skipImage ? await preview(job) : null;
    return {
      status: 200,
      body: { ...body, progress: value, eta_relative: elapsed / value - elapsed, current_image: current },
    };
  }

  function route(
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
  ): Promise<Reply> | Reply {
    const fields = asRecord(body);
    if (method === "POST" && (path === "/txt2img" || path === "/img2img"))
      return generate(path === "/txt2img" ? "txt2img" : "img2img", fields);
    if (method === "POST" && path === "/extra-single-image") return upscale(fields);
    if (method === "GET" && path === "/progress") return progress(query.get("skip_current_image") === "true");
    if (method === "POST" && path === "/interrupt") {
      if (state.job_count > 0) state.interrupted = true;
      return { status: 200, body: {} };
    }
    if (method === "GET" && path === "/sd-models") return { status: 200, body: models };
    if (method === "GET" && path === "/options")
      return { status: 200, body: { sd_model_checkpoint: models[0]?.title ?? null, samples_format: "png" } };
    if (method === "GET" && path === "/upscalers")
      return {
        status: 200,
        body: upscalers.map((name) => ({
          name,
          model_name: null,
          model_path: null,
          model_url: null,
          scale: 4,
        })),
      };
    if (method === "GET" && path === "/samplers")
      return { status: 200, body: samplers.map((name) => ({ name, aliases: [], options: {} })) };
    return { status: 404, body: { detail: "Not Found" } };
  }

  /** `Api.auth` behind FastAPI's HTTPBasic. */
  function authorize(request: IncomingMessage): {
    hasAuthHeader: boolean;
    authorized: boolean;
    reply?: Reply;
  } {
    return checkBasicAuth(credentials, request.headers.authorization);
  }

  async function respond(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://emulator");
    const method = request.method ?? "GET";
    const raw = await readBody(request);
    const body = parseBody(raw);
    const { reply: refused, ...auth } = authorize(request);
    const record: RecordedRequest = { method, path: url.pathname, body, ...auth };
    requests.push(record);
    if (knobs.hang) return; // left open; stop() cuts it
    const inApi = url.pathname.startsWith(`${api}/`);
    const path = inApi ? url.pathname.slice(api.length) : url.pathname;
    const fault = faults.take(method, path);
    if (fault?.kind === "fail" && !fault.afterProcessing)
      return sendReply(response, record, notProcessed, fault);
    let reply: Reply;
    if (!inApi) reply = { status: 404, body: { detail: "Not Found" } };
    else if (refused) reply = refused;
    else if (method === "POST" && raw !== "" && body === raw) reply = jsonInvalid;
    else reply = await route(method, path, url.searchParams, body);
    if (response.destroyed) return;
    sendReply(response, record, reply, fault);
  }

  const server = createServer((request, response) => {
    response.on("error", () => {});
    respond(request, response).catch((error: unknown) => {
      if (!response.headersSent) {
        response.writeHead(500, { "content-type": "application/json" });
        response.end(JSON.stringify(appError(500, "Exception", "", String(error)).body));
      } else response.destroy();
    });
  });
  const baseUrl = await listen(server);
  const postsTo = (name: string) =>
    requests.filter((request) => request.method === "POST" && request.path === `${api}/${name}`);

  return {
    baseUrl,
    auth: options.auth,
    models,
    upscalers,
    requests,
    knobs,
    failNext: faults.failNext,
    malformedNext: faults.malformedNext,
    truncateNext: faults.truncateNext,
    truncatePolls: faults.truncatePolls,
    clearFaults: faults.clearFaults,
    apiRequests: (method) => requests.filter((request) => method === undefined || request.method === method),
    bodies: (name) => postsTo(name).map((request) => asRecord(request.body)),
    imagesMade: () => imagesMade,
    maxWaiting: () => maxWaiting,
    busy: () => state.job_count > 0,
    taskIds: () => [...jobStamps],
    stop: () => {
      stopped = true;
      return closeServer(server, timers);
    },
  };
}
