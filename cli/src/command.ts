/** The shape of one `ipa` command; commands/ holds them, registry.ts names them. */
import type { ParseArgsOptionsConfig } from "node:util";
import type { Client } from "./client.ts";
import type { Target } from "./config.ts";
import type { Output } from "./output.ts";

export interface Context {
  api: Client;
  out: Output;
  /** Positional arguments after the command's name. */
  args: string[];
  flags: Record<string, string | boolean | undefined>;
  env: NodeJS.ProcessEnv;
  /** The profile and platform the global flags chose. */
  target: Target;
}

export interface Command {
  /** Arguments after the command's name, for `--help`. */
  usage: string;
  summary: string;
  options?: ParseArgsOptionsConfig;
  /** Whether it needs a token (all but login). */
  anonymous?: boolean;
  /** Resolves to the exit code (0 when nothing is returned). */
  run(ctx: Context): Promise<number | undefined>;
}
