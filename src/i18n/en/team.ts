// Team rule refusals in English. Written once, next to the code that raises them
// (src/team/messages.ts), so each refusal's `message` and this catalogue cannot drift apart.
export { teamEnglish as team } from "../../team/messages.ts";
