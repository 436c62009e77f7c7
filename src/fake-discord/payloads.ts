import {
  type APIApplication,
  type APIAttachment,
  type APIGuildMember,
  type APIInteractionGuildMember,
  type APIMessage,
  type APIRole,
  type APITextChannel,
  type APIUser,
  type ApplicationFlags,
  ChannelType,
  type GatewayGuildCreateDispatchData,
  type GatewayReadyDispatchData,
  GuildDefaultMessageNotifications,
  GuildExplicitContentFilter,
  type GuildMemberFlags,
  GuildMFALevel,
  GuildNSFWLevel,
  GuildPremiumTier,
  GuildSystemChannelFlags,
  GuildVerificationLevel,
  Locale,
  PermissionFlagsBits,
  type RoleFlags,
} from "discord-api-types/v10";
import type { StoredAttachment, StoredMessage } from "./message-store.ts";
import type { SnowflakeFactory } from "./snowflake.ts";

/** The fixed identities of the fake: one application/bot, one guild, one text channel. */
export interface FakeWorld {
  applicationId: string;
  botUser: APIUser;
  guildId: string;
  guildName: string;
  ownerId: string;
  channelId: string;
  channelName: string;
  /** Permission bitfield (decimal string) of @everyone, also used as the bot's and members' permissions. */
  permissions: string;
  maxFileBytes: number;
  /** Roles besides @everyone, announced in GUILD_CREATE (see `FakeDiscord.createRole`). */
  roles?: APIRole[];
  /** Per-user member details set by a test (`FakeDiscord.setMember`); others get the defaults. */
  members?: Map<string, FakeMemberSettings>;
  /** Servers besides the main one (`FakeDiscord.addGuild`), each with one text channel. */
  otherGuilds?: FakeGuild[];
  /** Discord locales set by a test (`FakeDiscord.setGuildLocale`, `setUserLocale`); others are en-US. */
  locales?: FakeLocales;
}

/** Locales by guild id and by user id. */
export interface FakeLocales {
  guilds: Map<string, Locale>;
  users: Map<string, Locale>;
}

/** A server's locale (its `preferred_locale`, an interaction's `guild_locale`). */
export function guildLocaleOf(world: FakeWorld, guildId: string): Locale {
  return world.locales?.guilds.get(guildId) ?? Locale.EnglishUS;
}

/** The locale a user's Discord client runs in (an interaction's `locale`). */
export function userLocaleOf(world: FakeWorld, userId: string): Locale {
  return world.locales?.users.get(userId) ?? Locale.EnglishUS;
}

/** A server the bot is in, with its one text channel; the main one is `world.guildId`/`world.channelId`. */
export interface FakeGuild {
  id: string;
  name: string;
  channelId: string;
  channelName: string;
}

export function mainGuild(world: FakeWorld): FakeGuild {
  return {
    id: world.guildId,
    name: world.guildName,
    channelId: world.channelId,
    channelName: world.channelName,
  };
}

/** Every server the bot is in, the main one first. */
export function guildsOf(world: FakeWorld): FakeGuild[] {
  return [mainGuild(world), ...(world.otherGuilds ?? [])];
}

/** The server a channel belongs to (every channel of the fake is in one). */
export function guildOfChannel(world: FakeWorld, channelId: string): FakeGuild | undefined {
  return guildsOf(world).find((guild) => guild.channelId === channelId);
}

/** What a test may set about one member: role ids, and a permission bitfield (decimal string). */
export interface FakeMemberSettings {
  roles?: string[];
  permissions?: string;
}

/** What a normal member (and the bot) may do in the fake guild: enough for the whole /imagine flow. */
export const DEFAULT_PERMISSIONS = (
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.UseApplicationCommands |
  PermissionFlagsBits.AddReactions |
  PermissionFlagsBits.UseExternalEmojis
).toString();

export type WorldSettings = Pick<FakeWorld, "guildName" | "channelName" | "maxFileBytes"> & {
  botUsername: string;
};

/** A fresh world: new ids for the application (and its bot user), the guild, its owner and the channel. */
export function createWorld(ids: SnowflakeFactory, settings: WorldSettings): FakeWorld {
  const applicationId = ids.next();
  return {
    // A bot user shares its application's id.
    applicationId,
    botUser: buildUser(applicationId, settings.botUsername, true),
    guildId: ids.next(),
    guildName: settings.guildName,
    ownerId: ids.next(),
    channelId: ids.next(),
    channelName: settings.channelName,
    permissions: DEFAULT_PERMISSIONS,
    maxFileBytes: settings.maxFileBytes,
  };
}

const EPOCH_ISO = new Date(0).toISOString();

// These flag enums have no member for "no flags", which is 0 on the wire.
const NO_APPLICATION_FLAGS = 0 as ApplicationFlags;
const NO_ROLE_FLAGS = 0 as RoleFlags;
const NO_MEMBER_FLAGS = 0 as GuildMemberFlags;

export function buildUser(id: string, username: string, bot = false): APIUser {
  return {
    id,
    username,
    discriminator: "0",
    global_name: bot ? null : username,
    avatar: null,
    ...(bot ? { bot: true } : {}),
  };
}

/** READY for one shard: it announces only `guilds`, the servers on that shard. */
export function buildReadyData(
  world: FakeWorld,
  session: { id: string; resumeUrl: string; shard: [number, number]; guilds: FakeGuild[] },
): GatewayReadyDispatchData {
  return {
    v: 10,
    user: { ...world.botUser, verified: true, mfa_enabled: false },
    // Discord announces guilds as unavailable first, then sends GUILD_CREATE for each.
    guilds: session.guilds.map((guild) => ({ id: guild.id, unavailable: true })),
    session_id: session.id,
    resume_gateway_url: session.resumeUrl,
    shard: session.shard,
    application: { id: world.applicationId, flags: NO_APPLICATION_FLAGS, flags_new: "0" },
  };
}

/** `GET /applications/@me`: what `client.application.fetch()` reads. */
export function buildApplication(world: FakeWorld, owner: APIUser): APIApplication {
  return {
    id: world.applicationId,
    name: world.botUser.username,
    icon: null,
    description: "",
    bot_public: false,
    bot_require_code_grant: false,
    bot: world.botUser,
    owner,
    summary: "",
    verify_key: "0".repeat(64),
    team: null,
    flags: NO_APPLICATION_FLAGS,
    flags_new: "0",
  };
}

export function buildTextChannel(world: FakeWorld, guild: FakeGuild = mainGuild(world)): APITextChannel {
  return {
    id: guild.channelId,
    type: ChannelType.GuildText,
    guild_id: guild.id,
    name: guild.channelName,
    position: 0,
    permission_overwrites: [],
    topic: null,
    nsfw: false,
    last_message_id: null,
    rate_limit_per_user: 0,
    parent_id: null,
  };
}

/** A plain role without permissions of its own. */
export function buildRole(id: string, name: string, position: number): APIRole {
  return {
    id,
    name,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position,
    permissions: "0",
    managed: false,
    mentionable: false,
    flags: NO_ROLE_FLAGS,
  };
}

function buildEveryoneRole(world: FakeWorld, guildId: string): APIRole {
  // The @everyone role shares the guild's id.
  return { ...buildRole(guildId, "@everyone", 0), permissions: world.permissions };
}

function buildGuildMember(user: APIUser, joinedAt: string): APIGuildMember {
  return {
    user,
    nick: null,
    avatar: null,
    banner: null,
    roles: [],
    joined_at: joinedAt,
    premium_since: null,
    deaf: false,
    mute: false,
    flags: NO_MEMBER_FLAGS,
    pending: false,
    communication_disabled_until: null,
  };
}

export function buildInteractionMember(user: APIUser, world: FakeWorld): APIInteractionGuildMember {
  const settings = world.members?.get(user.id);
  return {
    ...buildGuildMember(user, EPOCH_ISO),
    roles: settings?.roles ?? [],
    permissions: settings?.permissions ?? world.permissions,
    user,
  };
}

/**
 * GUILD_CREATE with the bot as member and one text channel, so discord.js caches guild, channel and
 * `members.me`. Roles made by a test (`world.roles`) are the main server's.
 */
export function buildGuildCreateData(
  world: FakeWorld,
  guild: FakeGuild = mainGuild(world),
): GatewayGuildCreateDispatchData {
  const joinedAt = EPOCH_ISO;
  const roles = guild.id === world.guildId ? (world.roles ?? []) : [];
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    splash: null,
    discovery_splash: null,
    owner_id: world.ownerId,
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: GuildVerificationLevel.None,
    default_message_notifications: GuildDefaultMessageNotifications.OnlyMentions,
    explicit_content_filter: GuildExplicitContentFilter.Disabled,
    roles: [buildEveryoneRole(world, guild.id), ...roles],
    emojis: [],
    features: [],
    mfa_level: GuildMFALevel.None,
    application_id: null,
    system_channel_id: null,
    system_channel_flags: GuildSystemChannelFlags.SuppressJoinNotifications,
    rules_channel_id: null,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: GuildPremiumTier.None,
    preferred_locale: guildLocaleOf(world, guild.id),
    public_updates_channel_id: null,
    nsfw_level: GuildNSFWLevel.Default,
    stickers: [],
    premium_progress_bar_enabled: false,
    hub_type: null,
    safety_alerts_channel_id: null,
    incidents_data: null,
    joined_at: joinedAt,
    large: false,
    // Must be explicit: discord.js only flips a guild announced unavailable in READY when it sees `false`.
    unavailable: false,
    member_count: 2,
    voice_states: [],
    members: [buildGuildMember(world.botUser, joinedAt)],
    channels: [withoutGuildId(buildTextChannel(world, guild))],
    threads: [],
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

/** Channels inside GUILD_CREATE carry no guild_id (discord.js fills it in). */
function withoutGuildId(channel: APITextChannel): APITextChannel {
  const { guild_id: _omitted, ...rest } = channel;
  return rest;
}

export function buildApiAttachment(attachment: StoredAttachment): APIAttachment {
  return {
    id: attachment.id,
    filename: attachment.filename,
    size: attachment.bytes.length,
    url: attachment.url,
    proxy_url: attachment.url,
    ...(attachment.contentType === undefined ? {} : { content_type: attachment.contentType }),
    ...(attachment.description === undefined ? {} : { description: attachment.description }),
  };
}

/** The full message object Discord returns: discord.js builds a `Message` from every field here. */
export function buildApiMessage(message: StoredMessage): APIMessage {
  return {
    id: message.id,
    channel_id: message.channelId,
    type: message.type,
    author: message.author,
    content: message.content,
    timestamp: new Date(message.createdAt).toISOString(),
    edited_timestamp: message.editedAt === null ? null : new Date(message.editedAt).toISOString(),
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: message.attachments.map(buildApiAttachment),
    embeds: message.embeds,
    components: message.components,
    pinned: false,
    flags: message.flags,
    ...(message.webhookId === undefined ? {} : { webhook_id: message.webhookId }),
    ...(message.applicationId === undefined ? {} : { application_id: message.applicationId }),
    ...(message.interactionMetadata === undefined
      ? {}
      : { interaction_metadata: message.interactionMetadata }),
    ...(message.legacyInteraction === undefined ? {} : { interaction: message.legacyInteraction }),
    ...(message.messageReference === undefined ? {} : { message_reference: message.messageReference }),
  };
}
