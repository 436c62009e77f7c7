// What src/jobs says in English: errors it stores on a job and its refusals. Written once, next to
// the code that says it (src/jobs/messages.ts), so each `message` and this catalogue cannot drift apart.
export { jobsEnglish as jobs } from "../../jobs/messages.ts";
