// The prompt language's errors in English. Written once, next to the code that raises them
// (src/prompt/messages.ts), so `PromptError.message` and this catalogue cannot drift apart.
export { promptEnglish as prompt } from "../../prompt/messages.ts";
