import {
  type APIModalInteractionResponseCallbackComponent,
  type APIModalSubmissionComponent,
  type APIModalSubmitTextInputComponent,
  ComponentType,
} from "discord-api-types/v10";

/**
 * The `data.components` Discord sends back for a modal: the same layout the bot opened (action rows or
 * labels around text inputs), each text input carrying the user's `value`.
 */
export function submissionFor(
  modal: readonly APIModalInteractionResponseCallbackComponent[],
  fields: Readonly<Record<string, string>>,
): APIModalSubmissionComponent[] {
  const used = new Set<string>();
  const textInput = (customId: string): APIModalSubmitTextInputComponent => {
    used.add(customId);
    return { type: ComponentType.TextInput, custom_id: customId, value: fields[customId] ?? "" };
  };
  const submission = modal.map((component): APIModalSubmissionComponent => {
    switch (component.type) {
      case ComponentType.ActionRow:
        return {
          type: ComponentType.ActionRow,
          components: component.components.map((i) => textInput(i.custom_id)),
        };
      case ComponentType.Label:
        if (component.component.type !== ComponentType.TextInput) {
          throw new TypeError(
            `The fake only fills text inputs, not component type ${component.component.type}`,
          );
        }
        return { type: ComponentType.Label, component: textInput(component.component.custom_id) };
      default:
        return { type: ComponentType.TextDisplay };
    }
  });
  const unknown = Object.keys(fields).filter((customId) => !used.has(customId));
  if (unknown.length > 0) throw new TypeError(`The modal has no text input(s) ${unknown.join(", ")}`);
  return submission;
}

/** Without the opened modal at hand: one legacy action row per field, which discord.js still reads. */
export function submissionFromFields(
  fields: Readonly<Record<string, string>>,
): APIModalSubmissionComponent[] {
  return Object.entries(fields).map(([customId, value]) => ({
    type: ComponentType.ActionRow,
    components: [{ type: ComponentType.TextInput, custom_id: customId, value }],
  }));
}
