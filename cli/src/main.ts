/**
 * `ipa`: the IPA Platform from a terminal. Finds its command in registry.ts, parses that
 * command's flags, and turns every failure into a message on stderr and a meaningful exit code.
 */
import { parseArgs } from "node:util";
import { client } from "./client.ts";
import type { Command } from "./command.ts";
import { currentLogin } from "./config.ts";
import { CliError, EXIT, UsageError } from "./errors.ts";
import { output } from "./output.ts";
import { COMMANDS } from "./registry.ts";

const GLOBAL = { json: { type: "boolean" }, help: { type: "boolean", short: "h" } } as const;

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
    "Usage: ipa <command> [arguments] [--json] [--help]",
    "",
    ...Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`),
    "",
    "The platform is IPA_URL (default: the one `ipa login` used, else http://localhost:8787); the",
    "token is IPA_TOKEN, else the one `ipa login` stored. --json prints what the API answered.",
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
    "  --json",
    "  --help, -h",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const words = argv.filter((a) => !a.startsWith("-"));
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
  const login = await currentLogin();
  if (!command.anonymous && !login.token)
    throw new CliError(`not signed in to ${login.url}: run \`ipa login\` or set IPA_TOKEN`, EXIT.notSignedIn);
  const positionals = parsed.positionals.slice(name.split(" ").length);
  return (
    (await command.run({
      api: client(login.url, login.token),
      out: output(Boolean(parsed.values.json)),
      args: positionals,
      flags: parsed.values as Record<string, string | boolean | undefined>,
      env: process.env,
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
