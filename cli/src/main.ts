/**
 * `ipa`: the IPA Platform from a terminal. Finds its command in registry.ts, parses that
 * command's flags and the global ones (anywhere on the line, before the command too), and turns
 * every failure into a message on stderr and a meaningful exit code.
 */
import { parseArgs } from "node:util";
import cliPackage from "../package.json" with { type: "json" };
import { client } from "./client.ts";
import type { Command } from "./command.ts";
import { completionCommand } from "./completion.ts";
import { currentLogin, targetOf } from "./config.ts";
import { CliError, EXIT, UsageError } from "./errors.ts";
import { output } from "./output.ts";
import { COMMANDS as REGISTERED } from "./registry.ts";

const COMMANDS: Record<string, Command> = {
  ...REGISTERED,
  completion: completionCommand(Object.keys(REGISTERED)),
};

const GLOBAL = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
  url: { type: "string" },
  profile: { type: "string" },
} as const;

function find(words: string[]): { name: string; command: Command; rest: string[] } | null {
  for (const length of [2, 1]) {
    const name = words.slice(0, length).join(" ");
    if (words.length >= length && COMMANDS[name]) return { name, command: COMMANDS[name], rest: words.slice(length) };
  }
  return null;
}

function overview(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return [
    "ipa: the IPA Platform from a terminal",
    "",
    "Usage: ipa [--url URL] [--profile NAME] <command> [arguments] [--json] [--help]",
    "       ipa --version",
    "",
    ...Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`),
    "",
    "The platform is --url or IPA_URL (default: the one `ipa login` used, else http://localhost:8787);",
    "the token is IPA_TOKEN, else the one `ipa login` stored for the profile (--profile or",
    "IPA_PROFILE, else default). --json prints what the API answered.",
    "Exit codes: 0 ok, 1 failed (the API's error on stderr), 2 bad usage, 3 the execution did not",
    "complete (run --watch, executions watch), 4 not signed in.",
  ].join("\n");
}

function help(name: string, command: Command): string {
  const flags = Object.entries(command.options ?? {}).map(
    ([flag, option]) =>
      `  --${flag}${option.short ? `, -${option.short}` : ""}${option.type === "string" ? " VALUE" : ""}`,
  );
  return [
    `Usage: ipa ${name} ${command.usage}`.trimEnd(),
    "",
    command.summary,
    ...(flags.length ? ["", ...flags] : []),
    "  --url URL, --profile NAME, --json, --help (-h)",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  // The global flags alone first, to tell `--url X` from a command word; unknown flags pass.
  const global = parseArgs({ args: argv, options: GLOBAL, strict: false, allowPositionals: true });
  if (global.values.version === true) {
    process.stdout.write(`${cliPackage.version}\n`);
    return EXIT.ok;
  }
  const words = global.positionals;
  const found = find(words);
  if (!found) {
    const asked = argv.length === 0 || argv.includes("--help") || argv.includes("-h") || words[0] === "help";
    if (asked) {
      process.stdout.write(`${overview()}\n`);
      return EXIT.ok;
    }
    throw new UsageError(`unknown command "${words.slice(0, 2).join(" ")}" (ipa --help lists them)`);
  }
  const { name, command } = found;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...GLOBAL, ...command.options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${help(name, command)}`);
  }
  if (parsed.values.help) {
    process.stdout.write(`${help(name, command)}\n`);
    return EXIT.ok;
  }
  const flags = parsed.values as Record<string, string | boolean | undefined>;
  const target = targetOf({ url: flags.url as string | undefined, profile: flags.profile as string | undefined });
  const login = await currentLogin(target);
  if (!command.anonymous && !login.token)
    throw new CliError(
      `not signed in to ${login.url} (profile ${target.profile}): run \`ipa login\` or set IPA_TOKEN`,
      EXIT.notSignedIn,
    );
  const positionals = parsed.positionals.slice(name.split(" ").length);
  return (
    (await command.run({
      api: client(login.url, login.token),
      out: output(Boolean(parsed.values.json)),
      args: positionals,
      flags,
      env: process.env,
      target,
    })) ?? EXIT.ok
  );
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`ipa: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = error instanceof CliError ? error.exitCode : EXIT.failed;
  },
);
