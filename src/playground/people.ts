// The pretend people of the playground: a few members of the fake server to switch between, so the
// team features (other people's buttons, private replies, admin commands, usage) can be tried.
import { type APIUser, PermissionFlagsBits } from "discord-api-types/v10";
import type { FakeDiscord } from "../fake-discord/index.ts";
import { DEFAULT_PERMISSIONS } from "../fake-discord/payloads.ts";

export interface Person {
  name: string;
  /** Has Manage Server: sees `/atelier` and the server's totals in `/info`. */
  admin: boolean;
  user: APIUser;
}

/** ada is the admin; bo and cy are members. */
export const defaultPeople = [
  { name: "ada", admin: true },
  { name: "bo", admin: false },
  { name: "cy", admin: false },
] as const;

export function createPeople(
  fake: FakeDiscord,
  people: readonly { name: string; admin: boolean }[] = defaultPeople,
): Person[] {
  return people.map(({ name, admin }) => {
    const user = fake.makeUser(name);
    if (admin) {
      fake.setMember(user, {
        permissions: (BigInt(DEFAULT_PERMISSIONS) | PermissionFlagsBits.ManageGuild).toString(),
      });
    }
    return { name, admin, user };
  });
}
