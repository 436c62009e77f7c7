// ComfyUI's JSON as the adapter reads it (server.py, execution.py): the answer to `POST /prompt`,
// its 400 with `node_errors` (turned into an error naming the node and the input), `/history/{id}`,
// `/queue`, `/object_info`, `/upload/image`; and the task ids, which carry the machine's place in
// COMFYUI_URL and ComfyUI's prompt id so a task can be found again after a restart.
import { z } from "zod";
import type { HttpErrorResponse } from "./http.ts";
import { ProviderError } from "./types.ts";

export const submittedSchema = z.object({ prompt_id: z.string().min(1), number: z.number().optional() });

const imageRefSchema = z.object({
  filename: z.string(),
  subfolder: z.string().default(""),
  type: z.string().default("output"),
});
export type ImageRef = z.infer<typeof imageRefSchema>;

const historyEntrySchema = z.object({
  outputs: z
    .record(z.string(), z.object({ images: z.array(imageRefSchema).optional() }).passthrough())
    .default({}),
  status: z
    .object({
      status_str: z.string().optional(),
      completed: z.boolean().optional(),
      messages: z.array(z.tuple([z.string(), z.unknown()])).default([]),
    })
    .optional(),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;
/** `GET /history/{id}`: `{}` until the prompt has run. */
export const historySchema = z.record(z.string(), historyEntrySchema);

const queueItemSchema = z.array(z.unknown()).min(2);
export const queueSchema = z.object({
  queue_running: z.array(queueItemSchema).default([]),
  queue_pending: z.array(queueItemSchema).default([]),
});

/** `GET /object_info`: only the lists the adapter needs (checkpoints, upscale models). */
export const objectInfoSchema = z.record(
  z.string(),
  z
    .object({ input: z.object({ required: z.record(z.string(), z.unknown()).default({}) }).passthrough() })
    .passthrough(),
);
export type ObjectInfo = z.infer<typeof objectInfoSchema>;

export const uploadedSchema = z.object({
  name: z.string().min(1),
  subfolder: z.string().default(""),
  type: z.string().default("input"),
});

/** The values of a combo input (`[["a", "b"], {…}]`) as `/object_info` lists them; [] when absent. */
export function comboValues(info: ObjectInfo, nodeClass: string, input: string): string[] {
  const spec = info[nodeClass]?.input.required[input];
  const values = Array.isArray(spec) ? spec[0] : undefined;
  return Array.isArray(values) ? values.filter((value): value is string => typeof value === "string") : [];
}

/** How a prompt ended, from its history entry. */
export function outcomeOf(entry: HistoryEntry): "success" | "interrupted" | "error" {
  const messages = entry.status?.messages ?? [];
  if (messages.some(([type]) => type === "execution_interrupted")) return "interrupted";
  if (entry.status?.status_str === "error" || messages.some(([type]) => type === "execution_error"))
    return "error";
  return "success";
}

/** The text of an `execution_error` message, for the user. */
export function executionErrorText(entry: HistoryEntry): string {
  const error = entry.status?.messages.find(([type]) => type === "execution_error")?.[1] as
    | { node_type?: string; node_id?: string; exception_message?: string }
    | undefined;
  if (!error) return "ComfyUI stopped the workflow with an error.";
  const where = error.node_type ? ` in ${error.node_type} (node ${error.node_id})` : "";
  return `ComfyUI failed${where}: ${String(error.exception_message ?? "").trim() || "no message"}`;
}

/** The saved images of a finished prompt, output images first (then previews), in node and batch order. */
export function resultImages(entry: HistoryEntry): ImageRef[] {
  const nodes = Object.keys(entry.outputs).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  const images = nodes.flatMap((node) => entry.outputs[node]?.images ?? []);
  const saved = images.filter((image) => image.type === "output");
  return saved.length > 0 ? saved : images;
}

const nodeErrorsSchema = z.object({
  error: z.union([
    z.string(),
    z.object({ type: z.string().optional(), message: z.string().optional(), details: z.string().optional() }),
  ]),
  node_errors: z
    .union([
      z.array(z.unknown()),
      z.record(
        z.string(),
        z.object({
          class_type: z.string().optional(),
          errors: z
            .array(
              z.object({
                type: z.string().optional(),
                message: z.string().optional(),
                details: z.string().optional(),
                extra_info: z.object({ input_name: z.string().optional() }).passthrough().optional(),
              }),
            )
            .default([]),
        }),
      ),
    ])
    .optional(),
});

/** A 400 from `POST /prompt` as an error naming each failing node (class and id) and input. */
export function mapComfyHttpError(response: HttpErrorResponse, label: string): ProviderError | undefined {
  if (response.status !== 400) return undefined;
  const parsed = nodeErrorsSchema.safeParse(response.body);
  if (!parsed.success) return undefined;
  const { error, node_errors: nodeErrors } = parsed.data;
  const top = typeof error === "string" ? { message: error } : error;
  const problems = Array.isArray(nodeErrors)
    ? []
    : Object.entries(nodeErrors ?? {}).flatMap(([id, node]) =>
        node.errors.map((entry) => {
          const input = entry.extra_info?.input_name;
          const detail = entry.details ? ` (${entry.details})` : "";
          return `${node.class_type ?? "node"} (node ${id})${input ? `, input ${input}` : ""}: ${entry.message ?? entry.type}${detail}`;
        }),
      );
  const head = top.message ?? "The workflow was refused";
  const details = top.details ? ` ${top.details}` : "";
  const message =
    problems.length > 0
      ? `${label} refused the workflow: ${problems.join("; ")}.`
      : `${label} refused the workflow: ${head}.${details}`;
  return new ProviderError("invalid", `${message} Check COMFYUI_WORKFLOW and COMFYUI_CHECKPOINT.`, {
    code: typeof error === "string" ? "invalid_prompt" : (error.type ?? "invalid_prompt"),
  });
}

/** `<machine index>:<prompt id>`: which machine of COMFYUI_URL, and ComfyUI's own id there. */
export function taskIdOf(index: number, promptId: string): string {
  return `${index}:${promptId}`;
}

export function parseTaskId(taskId: string): { index: number; promptId: string } {
  const match = /^(\d+):([\w-]+)$/.exec(taskId);
  if (!match)
    throw new ProviderError("invalid", `"${taskId}" is not a ComfyUI task id of this bot.`, {
      code: "task_id",
    });
  return { index: Number(match[1]), promptId: match[2] as string };
}

/** The request never got an answer (refused, reset, timed out): the machine stopped answering. */
export function stoppedAnswering(error: unknown): boolean {
  return (
    error instanceof ProviderError &&
    (error.kind === "transient" || error.kind === "timeout") &&
    /^(E[A-Z]+|UND_ERR_\w+)$/.test(error.code ?? "")
  );
}
