// `atelier <command>`: the one entry point for the bot, the prompt checker and the terminal pipeline.
import { ConfigError, loadSettings, providerNames } from "../config.ts";

const usage = `Usage:
  atelier start                        run the Discord bot (what \`npm start\` runs)
  atelier check "<prompt>"             parse a prompt and print it as JSON (exit 1 on an error)
  atelier check --jsonl                one prompt per line on stdin, one JSON result per line
  atelier imagine "<prompt>" --out DIR run a prompt on the configured provider, write the grid and images
`;

async function run(command: string | undefined, args: string[]): Promise<number> {
  switch (command) {
    case "check": {
      const { runCheck } = await import("./check.ts");
      const settings = loadSettings("prompt");
      return runCheck(args, process, { maxJobs: settings.PROMPT_MAX_JOBS, providerNames });
    }
    case "imagine": {
      const { runImagine } = await import("./imagine.ts");
      return runImagine(args, loadSettings("provider"));
    }
    case "start": {
      const { runBot } = await import("./start.ts");
      return runBot(loadSettings("bot"));
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(usage);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`Unknown command "${command}".\n\n${usage}`);
      return 1;
  }
}

try {
  process.exitCode = await run(process.argv[2], process.argv.slice(3));
} catch (error) {
  // Settings problems are already a readable list; anything else gets one line, not a stack dump.
  const message = error instanceof ConfigError ? error.message : `atelier: ${(error as Error).message}`;
  process.stderr.write(`${message}\n`);
  process.exitCode = 1;
}
