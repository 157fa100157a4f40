/**
 * `ipa completion bash|zsh|fish`: a completion script for the shell, written from the command
 * registry (so a new command completes without touching this file). Install with, e.g.,
 * `ipa completion bash > ~/.local/share/bash-completion/completions/ipa`.
 */
import type { Command } from "./command.ts";
import { UsageError } from "./errors.ts";

const SHELLS = ["bash", "zsh", "fish"] as const;
type Shell = (typeof SHELLS)[number];

/** Global flags, and the ones among them that take a value. */
export const GLOBAL_FLAGS = ["--url", "--profile", "--json", "--help", "--version"] as const;
const VALUE_FLAGS = ["--url", "--profile"];

/** First words, and for each first word that has them, the second words. */
function tree(names: readonly string[]): Map<string, string[]> {
  const words = new Map<string, string[]>();
  for (const name of names) {
    const [first, second] = name.split(" ");
    const seconds = words.get(first) ?? [];
    if (second) seconds.push(second);
    words.set(first, seconds);
  }
  return words;
}

function bash(names: readonly string[]): string {
  const words = tree(names);
  const cases = [...words]
    .filter(([, seconds]) => seconds.length > 0)
    .map(([first, seconds]) => `      ${first}) COMPREPLY=($(compgen -W "${seconds.join(" ")}" -- "$cur")) ;;`);
  return `# ipa completion for bash (and zsh through bashcompinit)
_ipa() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in ${VALUE_FLAGS.join("|")}) return 0 ;; esac
  local -a typed=()
  local i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      ${VALUE_FLAGS.join("|")}) ((i++)) ;;
      -*) ;;
      *) typed+=("\${COMP_WORDS[i]}") ;;
    esac
  done
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "${GLOBAL_FLAGS.join(" ")}" -- "$cur"))
  elif ((\${#typed[@]} == 0)); then
    COMPREPLY=($(compgen -W "${[...words.keys()].join(" ")}" -- "$cur"))
  elif ((\${#typed[@]} == 1)); then
    case "\${typed[0]}" in
${cases.join("\n")}
    esac
  fi
}
complete -o default -F _ipa ipa
`;
}

function zsh(names: readonly string[]): string {
  return `#compdef ipa
autoload -U +X bashcompinit && bashcompinit
${bash(names)}`;
}

function fish(names: readonly string[]): string {
  const words = tree(names);
  const lines = [
    "# ipa completion for fish",
    "complete -c ipa -f",
    ...GLOBAL_FLAGS.map((flag) => `complete -c ipa -l ${flag.slice(2)}${VALUE_FLAGS.includes(flag) ? " -r" : ""}`),
    `complete -c ipa -n "__fish_use_subcommand" -a "${[...words.keys()].join(" ")}"`,
    ...[...words]
      .filter(([, seconds]) => seconds.length > 0)
      .map(
        ([first, seconds]) =>
          `complete -c ipa -n "__fish_seen_subcommand_from ${first}; and not __fish_seen_subcommand_from ${seconds.join(" ")}" -a "${seconds.join(" ")}"`,
      ),
  ];
  return `${lines.join("\n")}\n`;
}

const WRITERS: Record<Shell, (names: readonly string[]) => string> = { bash, zsh, fish };

export function completionCommand(names: readonly string[]): Command {
  return {
    usage: SHELLS.join("|"),
    summary: "Print a completion script for the shell (e.g. `ipa completion bash > /etc/bash_completion.d/ipa`)",
    anonymous: true,
    async run({ args }) {
      const shell = args[0] as Shell;
      if (!SHELLS.includes(shell)) throw new UsageError(`ipa completion ${SHELLS.join("|")}`);
      process.stdout.write(WRITERS[shell]([...names, "completion"]));
      return 0;
    },
  };
}
