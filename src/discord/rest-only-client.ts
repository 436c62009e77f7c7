// A discord.js client that never opens the gateway, for interactions served over HTTP: what READY
// would have told it (its user, its application) is asked for over REST, and each verified
// interaction goes through discord.js's own INTERACTION_CREATE handling, so handlers get the same
// Interaction objects (raw member data, no guild cache) and answer them the same way.
import {
  type APIApplication,
  type APIInteraction,
  type APIUser,
  type Client,
  ClientApplication,
  ClientUser,
  Routes,
} from "discord.js";
import { explainLogin } from "./connect.ts";

/** The parts of discord.js's client that are not in its typings but are how it takes gateway events. */
interface ClientInternals {
  user: ClientUser | null;
  application: ClientApplication | null;
  actions: { InteractionCreate: { handle(data: APIInteraction): void } };
}

type Construct<T, Data> = new (client: Client, data: Data) => T;

/** Fills in the bot user and application from REST (`GET /users/@me`, `GET /applications/@me`). */
export async function identifyOverRest(client: Client, apiUrl: string | undefined): Promise<void> {
  try {
    const [user, application] = (await Promise.all([
      client.rest.get(Routes.user()),
      client.rest.get(Routes.currentApplication()),
    ])) as [APIUser, APIApplication];
    const internals = client as unknown as ClientInternals;
    internals.user = new (ClientUser as unknown as Construct<ClientUser, APIUser>)(client, user);
    internals.application = new (
      ClientApplication as unknown as Construct<ClientApplication, APIApplication>
    )(client, application);
  } catch (error) {
    throw explainLogin(error, apiUrl);
  }
}

/** Builds the Interaction as a gateway INTERACTION_CREATE would and emits `interactionCreate`. */
export function emitInteraction(client: Client, payload: APIInteraction): void {
  (client as unknown as ClientInternals).actions.InteractionCreate.handle(payload);
}
