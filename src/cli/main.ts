// `atelier <command>`: the one entry point for the bot, the prompt checker and the terminal pipeline.
// Parsing, help, --version and usage errors are commander's; each command's work is in its own file.
// Exit codes: 0 ok, 1 a prompt or job that failed (or settings it needs), 2 a command line that is wrong.
import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { ConfigError, loadSettings, providerNames } from "../config.ts";

const EXIT_USAGE = 2;

const speeds = ["draft", "fast", "turbo", "relax"];
const qualities = ["standard", "hd"];

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  return String(manifest.version);
}

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  ${line}`).join("\n")}\n`;
}

/** The command tree; `setExitCode` receives what the chosen command's action returns. */
function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command("atelier")
    .description("Atelier: the Midjourney workflow on the image API your team chooses.")
    .version(packageVersion(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .helpCommand("help [command]", "show help for a command")
    .showSuggestionAfterError()
    .showHelpAfterError("(atelier --help lists the commands)")
    .exitOverride()
    .addHelpText(
      "after",
      `${examples(
        "atelier start",
        'atelier check "a red fox --ar 3:2 --s 250"',
        "atelier check --jsonl < prompts.txt",
        'atelier imagine "a red fox --ar 3:2" --out fox',
        "atelier playground",
        "atelier imagine --help",
      )}\nExit codes: 0 ok, 1 a prompt or job failed (or a setting it needs is wrong), 2 wrong command line.\n`,
    );
  addStartCommand(program, setExitCode);
  addCheckCommand(program, setExitCode);
  addImagineCommand(program, setExitCode);
  addPlaygroundCommand(program, setExitCode);
  return program;
}

function addStartCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command("start")
    .summary("run the Discord bot (what `npm start` runs)")
    .description(
      "Run the Discord bot: settings from the environment and .env (see .env.example); DISCORD_TOKEN is required.",
    )
    .showHelpAfterError("(atelier start --help shows usage)")
    .addHelpText("after", examples("atelier start", "DISCORD_TOKEN=… EVOLINK_API_KEY=… npx atelier start"))
    .action(async () => {
      const { runBot } = await import("./start.ts");
      setExitCode(await runBot(loadSettings("bot")));
    });
}

function addCheckCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command("check")
    .summary("parse a prompt and print it as JSON (exit 1 when it is wrong)")
    .description(
      [
        "Parse and validate a prompt and print it as one JSON line: exit 0 when it is valid, 1 when it is not.",
        "Words starting with -- are the prompt's parameters, not options of this command: only --jsonl, --help and --version are. Everything after a lone -- is prompt text, even --help. (Midjourney's --version 6 is --v 6, or quote the prompt.)",
        "Of the settings, only PROMPT_MAX_JOBS is read.",
      ].join("\n\n"),
    )
    .argument("[prompt...]", "the prompt, quoted or not (unquoted words are joined with spaces)")
    .option("--jsonl", "read one prompt per line on stdin, write one JSON result per line (exit 0)")
    .allowUnknownOption()
    .showHelpAfterError("(atelier check --help shows usage)")
    .addHelpText(
      "after",
      examples(
        'atelier check "a red fox --ar 3:2 --s 250"',
        "atelier check a red fox --ar 3:2 --s 250     same prompt, unquoted",
        "atelier check -- --help                      checks the prompt `--help`",
        "atelier check --jsonl < prompts.txt > results.jsonl",
      ),
    )
    .action(async (words: string[], options: { jsonl?: boolean }, command: Command) => {
      const { checkOne, checkLines, promptMaxJobs } = await import("./check.ts");
      if (options.jsonl && words.length > 0) {
        command.error("error: --jsonl reads prompts from stdin; give no prompt with it", {
          exitCode: EXIT_USAGE,
        });
      }
      let maxJobs: number;
      try {
        maxJobs = promptMaxJobs();
      } catch (error) {
        process.stderr.write(`atelier check: ${(error as Error).message}\n`);
        return setExitCode(1);
      }
      const promptOptions = { maxJobs, providerNames };
      setExitCode(
        options.jsonl
          ? await checkLines(process, promptOptions)
          : await checkOne(promptWords(words).join(" "), process, promptOptions),
      );
    });
}

function addImagineCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command("imagine")
    .summary("run a prompt on the image service and write the grid and images into a directory")
    .description(
      [
        "Run the bot's pipeline without Discord: same settings (environment and .env), progress on stderr, the grid and the single images written into --out DIR, their paths printed on stdout.",
        "Quote a prompt that has parameters, so that --ar 3:2 stays the prompt's and is not read as an option.",
        "--out is checked (created when missing, written to) before anything is sent to the image service.",
      ].join("\n\n"),
    )
    .argument("<prompt...>", "the prompt (quote it when it has --parameters)")
    .usage('"<prompt>" --out <dir> [options]')
    // Checked in the action, not as a required option: commander would report a missing --out
    // before an unknown option, and `--outt DIR` should be named as the typo it is.
    .option("-o, --out <dir>", "directory for the grid and the images (required; created when missing)")
    .addOption(
      new Option("--speed <speed>", "speed of the job (default: DEFAULT_SPEED, fast)").choices(speeds),
    )
    .addOption(
      new Option("--quality <quality>", "quality of the job (default: DEFAULT_QUALITY, standard)").choices(
        qualities,
      ),
    )
    .option("--provider <name>", "one of the providers in PROVIDER (default: the first)")
    .showHelpAfterError(
      '(atelier imagine --help shows usage; quote a prompt that has parameters: "a fox --ar 3:2")',
    )
    .addHelpText(
      "after",
      examples(
        'atelier imagine "a red fox --ar 3:2" --out fox',
        'atelier imagine "a lighthouse at dusk" --out out --speed turbo --quality hd',
        'PROVIDER=evolink,openai atelier imagine "a red fox" --out fox --provider openai',
      ),
    )
    .action(
      async (
        words: string[],
        options: { out?: string; speed?: string; quality?: string; provider?: string },
        command: Command,
      ) => {
        const prompt = words.join(" ").trim();
        const usage = (message: string) => command.error(`error: ${message}`, { exitCode: EXIT_USAGE });
        if (prompt === "") usage("the prompt is empty");
        if (options.out === undefined) return usage("required option '-o, --out <dir>' not specified");
        const { runImagine } = await import("./imagine.ts");
        setExitCode(await runImagine({ ...options, prompt, out: options.out }, loadSettings("provider")));
      },
    );
}

function addPlaygroundCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command("playground")
    .summary("try the bot without Discord: a local page that behaves like a Discord channel")
    .description(
      [
        "Serve a local web page that looks and behaves like a Discord channel,",
        "running the real bot on an in-repo fake Discord: no token needed.",
        "Images come from the built-in EvoLink emulator (pictures that follow the prompt)",
        "unless an image service is configured in the environment or .env (real jobs).",
        "The page's URL is printed; Ctrl+C stops it.",
      ].join("\n"),
    )
    .option("-p, --port <port>", "port of the page (0: any free one)", "8787")
    .option("--host <address>", "interface to listen on", "127.0.0.1")
    .option("--emulator", "use the built-in emulator even when an image service is configured")
    .showHelpAfterError("(atelier playground --help shows usage)")
    .addHelpText("after", examples("atelier playground", "atelier playground --port 0"))
    .action(async (options: { port: string; host: string; emulator?: boolean }, command: Command) => {
      const port = Number(options.port);
      if (!/^\d+$/.test(options.port) || port > 65535) {
        command.error("error: --port must be a port number from 0 to 65535", {
          exitCode: EXIT_USAGE,
          code: "atelier.badPort",
        });
      }
      const { runPlayground } = await import("./playground.ts");
      setExitCode(await runPlayground({ port, host: options.host, emulator: options.emulator === true }));
    });
}

/**
 * The words of an unquoted `check` prompt. Commander keeps a lone `--` that follows a prompt
 * parameter (`a fox --ar 3:2 -- more`); it only ends the options, so it is not part of the prompt.
 */
function promptWords(words: string[]): string[] {
  const end = words.indexOf("--");
  return end === -1 ? words : [...words.slice(0, end), ...words.slice(end + 1)];
}

async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  try {
    await buildProgram((code) => {
      exitCode = code;
    }).parseAsync(argv);
    return exitCode;
  } catch (error) {
    // Commander has already printed help, the version or the usage error.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    // Settings problems are already a readable list; anything else gets one line, not a stack dump.
    const message = error instanceof ConfigError ? error.message : `atelier: ${(error as Error).message}`;
    process.stderr.write(`${message}\n`);
    return 1;
  }
}

// `atelier … | head` may close stdout early: stop quietly rather than print a stack.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(process.exitCode ?? 0);
});
process.exitCode = await main(process.argv);
