import {
  type APIEmbed,
  type APIMessageTopLevelComponent,
  ButtonStyle,
  ComponentType,
  MessageFlags,
} from "discord-api-types/v10";
import { z } from "zod";
import { ErrorCollector, entityTooLarge, invalidFormBody } from "./errors.ts";
import { isRecord } from "./guards.ts";
import type { NewAttachment, StoredAttachment } from "./message-store.ts";
import type { UploadedFile } from "./multipart.ts";

// Discord's documented message limits: the fake enforces them so a bot bug fails in tests, not in production.
const MAX_CONTENT_LENGTH = 2000;
const MAX_EMBEDS = 10;
const MAX_ACTION_ROWS = 5;
const MAX_ROW_CHILDREN = 5;
const MAX_CUSTOM_ID_LENGTH = 100;
const MAX_BUTTON_LABEL_LENGTH = 80;
const MAX_FILES = 10;
const MAX_REQUEST_BYTES = 25 * 1024 * 1024;

/** Components are stored verbatim (the bot built them); only their outline is checked here. */
const componentSchema = z.custom<APIMessageTopLevelComponent>(
  (value) => isRecord(value) && typeof value.type === "number",
  { message: "Component must be an object with a numeric type" },
);
const embedSchema = z.custom<APIEmbed>(isRecord, { message: "Embed must be an object" });

const attachmentReferenceSchema = z.looseObject({
  // discord.js sends new-file references as strings ("0"), existing attachments by snowflake.
  id: z.union([z.string(), z.number()]).transform(String),
  // discord.js sends `description: null` etc. for unset fields.
  filename: z.string().nullish(),
  description: z.string().nullish(),
});

export const messageBodySchema = z.looseObject({
  content: z.string().nullish(),
  embeds: z.array(embedSchema).nullish(),
  components: z.array(componentSchema).nullish(),
  flags: z.number().int().nullish(),
  attachments: z.array(attachmentReferenceSchema).nullish(),
  message_reference: z.looseObject({ message_id: z.string() }).nullish(),
});

export type MessageBody = z.infer<typeof messageBodySchema>;

/** Parses a message create/edit body into typed fields, answering 50035 like Discord when malformed. */
export function parseMessageBody(json: unknown): MessageBody {
  const parsed = messageBodySchema.safeParse(json ?? {});
  if (parsed.success) return parsed.data;
  const errors = new ErrorCollector();
  for (const issue of parsed.error.issues) {
    errors.add(issue.path.map(String), zodIssueCode(issue.code), issue.message);
  }
  throw invalidFormBody(errors.tree);
}

function zodIssueCode(code: string): string {
  return code === "invalid_type" ? "MODEL_TYPE_CONVERT" : "BASE_TYPE_INVALID";
}

/** Checks Discord's content/embed/component limits on the fields the body sets. */
export function validateMessageLimits(body: MessageBody): void {
  const errors = new ErrorCollector();
  if (body.content && body.content.length > MAX_CONTENT_LENGTH) {
    errors.add(["content"], "BASE_TYPE_MAX_LENGTH", `Must be ${MAX_CONTENT_LENGTH} or fewer in length.`);
  }
  if (body.embeds && body.embeds.length > MAX_EMBEDS) {
    errors.add(["embeds"], "BASE_TYPE_MAX_LENGTH", `Must be ${MAX_EMBEDS} or fewer in length.`);
  }
  if (body.components) {
    const componentsV2 = ((body.flags ?? 0) & MessageFlags.IsComponentsV2) !== 0;
    validateComponents(body.components, componentsV2, errors);
  }
  errors.throwIfAny();
}

function validateComponents(
  components: readonly APIMessageTopLevelComponent[],
  componentsV2: boolean,
  errors: ErrorCollector,
): void {
  if (!componentsV2) validateActionRowLayout(components, errors);
  const seenCustomIds = new Set<string>();
  visitComponents(components, ["components"], (component, path) => {
    validateInteractiveComponent(component, path, seenCustomIds, errors);
  });
}

/** Classic (non-v2) messages: at most 5 action rows with at most 5 children each. */
function validateActionRowLayout(components: readonly APIMessageTopLevelComponent[], errors: ErrorCollector) {
  if (components.length > MAX_ACTION_ROWS) {
    errors.add(["components"], "BASE_TYPE_MAX_LENGTH", `Must be ${MAX_ACTION_ROWS} or fewer in length.`);
  }
  components.forEach((row, index) => {
    if (row.type !== ComponentType.ActionRow) {
      errors.add(
        ["components", index],
        "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
        "Top-level components must be action rows",
      );
      return;
    }
    if (row.components.length > MAX_ROW_CHILDREN) {
      errors.add(
        ["components", index, "components"],
        "BASE_TYPE_MAX_LENGTH",
        `Must be ${MAX_ROW_CHILDREN} or fewer in length.`,
      );
    }
  });
}

function validateInteractiveComponent(
  component: Record<string, unknown>,
  path: (string | number)[],
  seenCustomIds: Set<string>,
  errors: ErrorCollector,
): void {
  const customId = component.custom_id;
  if (typeof customId === "string") {
    if (customId.length > MAX_CUSTOM_ID_LENGTH) {
      errors.add(
        [...path, "custom_id"],
        "BASE_TYPE_MAX_LENGTH",
        `Must be ${MAX_CUSTOM_ID_LENGTH} or fewer in length.`,
      );
    }
    if (seenCustomIds.has(customId)) {
      errors.add(
        [...path, "custom_id"],
        "COMPONENT_CUSTOM_ID_DUPLICATED",
        "Component custom id cannot be duplicated",
      );
    }
    seenCustomIds.add(customId);
  }
  if (component.type !== ComponentType.Button) return;
  const label = component.label;
  if (typeof label === "string" && label.length > MAX_BUTTON_LABEL_LENGTH) {
    errors.add(
      [...path, "label"],
      "BASE_TYPE_MAX_LENGTH",
      `Must be ${MAX_BUTTON_LABEL_LENGTH} or fewer in length.`,
    );
  }
  const needsCustomId = component.style !== ButtonStyle.Link && component.style !== ButtonStyle.Premium;
  if (needsCustomId && typeof customId !== "string") {
    errors.add([...path, "custom_id"], "BASE_TYPE_REQUIRED", "This field is required");
  }
}

/** Depth-first walk over nested components (rows, sections, containers, accessories). */
export function visitComponents(
  components: readonly unknown[],
  path: (string | number)[],
  visit: (component: Record<string, unknown>, path: (string | number)[]) => void,
): void {
  components.forEach((component, index) => {
    if (!isRecord(component)) return;
    const here = [...path, index];
    visit(component, here);
    if (Array.isArray(component.components))
      visitComponents(component.components, [...here, "components"], visit);
    if (isRecord(component.accessory)) visitComponents([component.accessory], [...here, "accessory"], visit);
    if (isRecord(component.component)) visitComponents([component.component], [...here, "component"], visit);
  });
}

/** 413 like Discord when a file or the whole upload is over the limit. */
export function validateUploads(files: readonly UploadedFile[], maxFileBytes: number): void {
  if (files.length > MAX_FILES) {
    const errors = new ErrorCollector();
    errors.add(["files"], "BASE_TYPE_MAX_LENGTH", `Must be ${MAX_FILES} or fewer in length.`);
    errors.throwIfAny();
  }
  const total = files.reduce((sum, file) => sum + file.bytes.length, 0);
  if (total > MAX_REQUEST_BYTES || files.some((file) => file.bytes.length > maxFileBytes))
    throw entityTooLarge();
}

/**
 * The attachment list after a create/edit, following Discord's rules: `attachments` lists everything that
 * remains (existing ids are kept, `files[n]` are referenced by id `n`); without `attachments`, existing
 * ones stay and uploaded files are added. Returns undefined when attachments are untouched.
 */
export function resolveAttachments(
  body: MessageBody,
  files: readonly UploadedFile[],
  existing: readonly StoredAttachment[],
  save: (file: Omit<NewAttachment, "channelId">) => StoredAttachment,
): StoredAttachment[] | undefined {
  const references = body.attachments;
  if (references === undefined && files.length === 0) return undefined;
  if (references === undefined || references === null) {
    // `attachments: null` clears everything but still accepts new uploads.
    const kept = references === null ? [] : existing;
    return [...kept, ...files.map((file) => save(describeUpload(file, undefined)))];
  }
  const result: StoredAttachment[] = [];
  const usedFiles = new Set<UploadedFile>();
  const errors = new ErrorCollector();
  references.forEach((reference, index) => {
    const kept = existing.find((attachment) => attachment.id === reference.id);
    if (kept) {
      result.push(kept);
      return;
    }
    const file = files.find((candidate) => String(candidate.index) === reference.id);
    if (!file) {
      errors.add(["attachments", index, "id"], "ATTACHMENT_NOT_FOUND", "Unknown attachment");
      return;
    }
    usedFiles.add(file);
    result.push(save(describeUpload(file, reference)));
  });
  errors.throwIfAny();
  // Files uploaded without a reference are still attached, as Discord does.
  for (const file of files) if (!usedFiles.has(file)) result.push(save(describeUpload(file, undefined)));
  return result;
}

function describeUpload(
  file: UploadedFile,
  reference: { filename?: string | null | undefined; description?: string | null | undefined } | undefined,
): Omit<NewAttachment, "channelId"> {
  return {
    filename: reference?.filename ?? file.filename,
    description: reference?.description ?? undefined,
    contentType: file.contentType,
    bytes: file.bytes,
  };
}
