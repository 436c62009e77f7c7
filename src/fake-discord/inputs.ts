// What a test (or the playground) passes to FakeDiscord's user actions.
import type { APIUser, Locale } from "discord-api-types/v10";
import type { SlashOptionValue } from "./interaction-payloads.ts";
import type { InteractionHandle } from "./interactions.ts";

/** A file a user attaches to a slash command option. */
export interface FileInput {
  filename: string;
  bytes: Uint8Array;
  contentType?: string;
}

export interface SlashCommandInput {
  name: string;
  /** Option name → value; types come from the registered command definition. */
  options?: Record<string, SlashOptionValue>;
  /** Attachment option name → file (served by the fake so the bot can download it). */
  attachments?: Record<string, FileInput>;
  subcommand?: string;
  subcommandGroup?: string;
  /** The server it is run in (one made with `fake.addGuild`); default: the main one, `fake.guildId`. */
  guildId?: string;
  /** Defaults to `fake.defaultUser`. */
  user?: APIUser;
  /** The client locale it is sent with; default the user's (`fake.setUserLocale`), else en-US. */
  locale?: Locale;
}

export interface ButtonClickInput {
  /** The message carrying the button (id, or anything with an `id` such as a FakeMessage). */
  message: string | { id: string };
  customId: string;
  user?: APIUser;
  /** The client locale it is sent with; default the user's (`fake.setUserLocale`), else en-US. */
  locale?: Locale;
}

export interface ModalSubmitInput {
  customId: string;
  /** Text input custom_id → value. */
  fields: Record<string, string>;
  user?: APIUser;
  /** The client locale it is sent with; default the user's (`fake.setUserLocale`), else en-US. */
  locale?: Locale;
  /** The interaction that opened the modal: mirrors its layout and carries its message along. */
  openedBy?: InteractionHandle;
}
