// The fake's messages as the playground page draws them: plain data, with who may see each one,
// attachments on the page's own origin, and components reduced to what the page can show.
import {
  type APIEmbed,
  type APIMessageTopLevelComponent,
  ComponentType,
  InteractionType,
} from "discord-api-types/v10";
import type { FakeMessage } from "../fake-discord/index.ts";

export interface PageButton {
  label: string;
  emoji?: string;
  /** Discord's button style: 1 primary (blue), 2 secondary, 3 success, 4 danger, 5 link. */
  style: number;
  disabled: boolean;
  customId?: string;
  url?: string;
}

export interface PageAttachment {
  url: string;
  filename: string;
  contentType?: string;
  size: number;
}

export interface PageEmbed {
  title?: string;
  description?: string;
  colour?: number;
  fields: { name: string; value: string }[];
  footer?: string;
}

export interface PageMessage {
  id: string;
  createdAt: number;
  edited: boolean;
  author: { id: string; name: string; bot: boolean };
  /** The slash command this message answers, as Discord's "ada used /imagine" line. */
  usedCommand?: { userId: string; name: string };
  content: string;
  embeds: PageEmbed[];
  attachments: PageAttachment[];
  rows: PageButton[][];
  /** Private ("only you can see this"): shown only to `visibleTo`. */
  ephemeral: boolean;
  visibleTo?: string;
  /** Deferred and not answered yet: "Atelier is thinking…". */
  loading: boolean;
}

function embedOf(embed: APIEmbed): PageEmbed {
  return {
    title: embed.title,
    description: embed.description,
    colour: embed.color,
    fields: (embed.fields ?? []).map(({ name, value }) => ({ name, value })),
    footer: embed.footer?.text,
  };
}

function buttonsOf(row: APIMessageTopLevelComponent): PageButton[] {
  if (row.type !== ComponentType.ActionRow) return [];
  return row.components.flatMap((component): PageButton[] => {
    if (component.type !== ComponentType.Button) return [];
    const base = {
      label: "label" in component ? (component.label ?? "") : "",
      emoji: "emoji" in component ? (component.emoji?.name ?? undefined) : undefined,
      style: component.style,
      disabled: component.disabled === true,
    };
    if ("custom_id" in component) return [{ ...base, customId: component.custom_id }];
    if ("url" in component) return [{ ...base, url: component.url }];
    return [base];
  });
}

/** `fakeOrigin` is the fake's base URL: its attachment links become paths the page's server proxies. */
export function pageMessage(message: FakeMessage, fakeOrigin: string): PageMessage {
  const { api } = message;
  const asker = api.interaction_metadata?.user ?? api.interaction?.user;
  const command =
    api.interaction && api.interaction.type === InteractionType.ApplicationCommand
      ? api.interaction
      : undefined;
  const local = (url: string) => (url.startsWith(fakeOrigin) ? url.slice(fakeOrigin.length) : url);
  return {
    id: message.id,
    createdAt: message.createdAt,
    edited: message.editCount > 0 && !message.loading,
    author: { id: api.author.id, name: api.author.username, bot: api.author.bot === true },
    ...(command ? { usedCommand: { userId: command.user.id, name: command.name } } : {}),
    content: message.content,
    embeds: message.embeds.map(embedOf),
    attachments: message.attachments.map((attachment) => ({
      url: local(attachment.url),
      filename: attachment.filename,
      contentType: attachment.contentType,
      size: attachment.size,
    })),
    rows: message.components.map(buttonsOf).filter((row) => row.length > 0),
    ephemeral: message.ephemeral,
    ...(message.ephemeral && asker ? { visibleTo: asker.id } : {}),
    loading: message.loading,
  };
}
