/**
 * Where the CLI finds the platform and its token: `--url` / IPA_URL and IPA_TOKEN when set (as for
 * `npm run restore`), otherwise what `ipa login` stored for the profile (`--profile`, IPA_PROFILE,
 * else "default") in the user's config directory (0600). One file holds every profile, so
 * `ipa --profile staging login` and `ipa login` keep a token each.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export interface Login {
  url: string;
  token: string;
  tokenId?: string;
  user?: string;
}

/** Which profile and platform this invocation speaks of (the global flags, then the environment). */
export interface Target {
  profile: string;
  url?: string;
}

interface ConfigFile {
  profiles: Record<string, Login>;
}

export const DEFAULT_URL = "http://localhost:8787";
export const DEFAULT_PROFILE = "default";

export function targetOf(flags: { profile?: string; url?: string }, env: NodeJS.ProcessEnv = process.env): Target {
  return { profile: flags.profile || env.IPA_PROFILE || DEFAULT_PROFILE, url: flags.url || env.IPA_URL || undefined };
}

export function configFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "ipa", "config.json");
}

async function readConfig(env: NodeJS.ProcessEnv): Promise<ConfigFile> {
  try {
    const parsed = JSON.parse(await readFile(configFile(env), "utf8"));
    // A file from before profiles held one login: it is the default profile.
    if (typeof parsed.token === "string") return { profiles: { [DEFAULT_PROFILE]: parsed as Login } };
    return { profiles: parsed.profiles ?? {} };
  } catch {
    return { profiles: {} };
  }
}

async function writeConfig(config: ConfigFile, env: NodeJS.ProcessEnv): Promise<string> {
  const file = configFile(env);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // Written with 0600 from the first byte: a token is as good as a password until it expires.
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return file;
}

export async function storedLogin(target: Target, env: NodeJS.ProcessEnv = process.env): Promise<Login | null> {
  return (await readConfig(env)).profiles[target.profile] ?? null;
}

export async function storeLogin(target: Target, login: Login, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const config = await readConfig(env);
  config.profiles[target.profile] = login;
  return writeConfig(config, env);
}

export async function forgetLogin(target: Target, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = await readConfig(env);
  delete config.profiles[target.profile];
  await writeConfig(config, env);
}

/** The platform to talk to and the token to use (flags and the environment first). */
export async function currentLogin(
  target: Target,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ url: string; token: string | null }> {
  const stored = await storedLogin(target, env);
  const url = (target.url || stored?.url || DEFAULT_URL).replace(/\/+$/, "");
  // A stored token goes only to the platform that issued it, never to another --url.
  const storedToken = stored && stored.url.replace(/\/+$/, "") === url ? stored.token : null;
  return { url, token: env.IPA_TOKEN || storedToken };
}
