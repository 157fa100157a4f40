/**
 * Where the CLI finds the platform and its token: IPA_URL and IPA_TOKEN when set (as for
 * `npm run restore`), otherwise what `ipa login` stored in the user's config directory (0600).
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export interface Login {
  url: string;
  token: string;
  tokenId?: string;
  user?: string;
}

export const DEFAULT_URL = "http://localhost:8787";

export function configFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "ipa", "config.json");
}

export async function storedLogin(env: NodeJS.ProcessEnv = process.env): Promise<Login | null> {
  try {
    return JSON.parse(await readFile(configFile(env), "utf8")) as Login;
  } catch {
    return null;
  }
}

export async function storeLogin(login: Login, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const file = configFile(env);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // Written with 0600 from the first byte: the token is as good as a password until it expires.
  await writeFile(file, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  return file;
}

export async function forgetLogin(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await rm(configFile(env), { force: true });
}

/** The platform to talk to and the token to use (the environment first). */
export async function currentLogin(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ url: string; token: string | null }> {
  const stored = await storedLogin(env);
  const url = (env.IPA_URL || stored?.url || DEFAULT_URL).replace(/\/+$/, "");
  return { url, token: env.IPA_TOKEN || stored?.token || null };
}
