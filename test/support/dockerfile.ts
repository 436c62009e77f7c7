// What the image runs, read from the Dockerfile (no Docker engine here to ask).
import { readFileSync } from "node:fs";
import { z } from "zod";

const dockerfile = () => readFileSync(new URL("../../Dockerfile", import.meta.url), "utf8");

/** The image's command: the exec-form `CMD [...]` line (the health check's shell-form CMD is not it). */
export function imageCommand(): string[] {
  const line = dockerfile().match(/^CMD (\[.*\])$/m)?.[1];
  if (!line) throw new Error("the Dockerfile has no exec-form CMD");
  return z.array(z.string()).parse(JSON.parse(line));
}

/** What the Dockerfile's COPY lines take into the image. */
export function copiedByDockerfile(): string[] {
  return [...dockerfile().matchAll(/^COPY (?!--from)(.+) \.\/?\S*$/gm)].flatMap((match) =>
    (match[1] ?? "").split(/\s+/),
  );
}
