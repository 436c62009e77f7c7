// Questions from the bench process to one of its children over IPC, each answered once: the bot
// (its event-loop figures) and the provider's process (what the emulator saw).
import type { ChildProcess } from "node:child_process";

interface Asked<Request> {
  id: number;
  request: Request;
}

interface Answered<Reply> {
  id: number;
  reply: Reply;
}

/** Sends `request` to the child and resolves with its answer to that request. */
export function askerOf<Request, Reply>(child: ChildProcess): (request: Request) => Promise<Reply> {
  let nextId = 0;
  return (request) =>
    new Promise<Reply>((resolve, reject) => {
      const id = nextId++;
      const onMessage = (message: Answered<Reply>) => {
        if (message.id !== id) return;
        child.off("message", onMessage);
        child.off("exit", onExit);
        resolve(message.reply);
      };
      const onExit = () => {
        child.off("message", onMessage);
        reject(new Error("the child process ended before it answered"));
      };
      child.on("message", onMessage);
      child.once("exit", onExit);
      child.send({ id, request } satisfies Asked<Request>);
    });
}

/** In the child: answers each question from the parent with `answer`. */
export function answerParent<Request, Reply>(answer: (request: Request) => Reply | Promise<Reply>): void {
  process.on("message", async (message: Asked<Request>) => {
    const reply = await answer(message.request);
    process.send?.({ id: message.id, reply } satisfies Answered<Reply>);
  });
}
