/** `ipa login`, `logout`, `whoami`: a personal API token kept in the user's config directory. */
import { hostname } from "node:os";
import { createInterface } from "node:readline/promises";
import { Writable } from "node:stream";
import type { Me } from "../api-types.ts";
import { client } from "../client.ts";
import type { Command } from "../command.ts";
import { configFile, currentLogin, DEFAULT_PROFILE, forgetLogin, storedLogin, storeLogin } from "../config.ts";
import { CliError, UsageError } from "../errors.ts";

async function ask(question: string, hidden = false): Promise<string> {
  if (!process.stdin.isTTY)
    throw new UsageError(
      `${question.replace(/: $/, "")} is needed: pass it with a flag (or IPA_PASSWORD) when not at a terminal`,
    );
  // For a password, the prompt is written here and readline echoes into a stream that drops it.
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  if (hidden) process.stdout.write(question);
  const prompt = createInterface({ input: process.stdin, output: hidden ? muted : process.stdout, terminal: true });
  try {
    return (await prompt.question(hidden ? "" : question)).trim();
  } finally {
    prompt.close();
    if (hidden) process.stdout.write("\n");
  }
}

export const login: Command = {
  usage: "[--email EMAIL] [--days N] [--scopes workflows:read,executions:read,...]",
  summary:
    "Sign in and keep a personal API token (0600) in the config directory; the password is never stored. " +
    "--scopes narrows the token to those permissions (default: all your roles grant but users:manage)",
  anonymous: true,
  options: {
    email: { type: "string" },
    days: { type: "string" },
    scopes: { type: "string" },
  },
  async run({ flags, env, out, target }) {
    const { url } = await currentLogin(target, env);
    const identifier = String(flags.email ?? env.IPA_EMAIL ?? (await ask("Email or username: ")));
    const password = env.IPA_PASSWORD ?? (await ask("Password: ", true));
    const anonymous = client(url, null);
    const field = identifier.includes("@") ? "email" : "username";
    const session = await anonymous.post<{ accessToken: string }>("/auth/login", { [field]: identifier, password });
    const api = client(url, session.accessToken);
    const days = flags.days === undefined ? 90 : Number(flags.days);
    if (!Number.isInteger(days)) throw new UsageError("--days takes a whole number of days (1-365)");
    const scopes =
      flags.scopes === undefined
        ? undefined
        : String(flags.scopes)
            .split(",")
            .map((s) => s.trim());
    const token = await api.post<{ id: string; token: string; expiresAt: string; scopes: string[] }>(
      "/auth/api-tokens",
      { name: `ipa cli on ${hostname()}`.slice(0, 100), expiresInDays: days, ...(scopes ? { scopes } : {}) },
    );
    // The session that minted the token is not needed any more.
    await api.post("/auth/logout").catch(() => undefined);
    const me = await client(url, token.token).get<Me>("/auth/me");
    const file = await storeLogin(target, { url, token: token.token, tokenId: token.id, user: me.username }, env);
    const narrowed = scopes ? `, scopes ${token.scopes.join(", ")}` : "";
    const profile = target.profile === DEFAULT_PROFILE ? "" : ` (profile ${target.profile})`;
    out.done(
      `Signed in to ${url} as ${me.username} (${me.roles.join(", ")}${narrowed}); token kept in ${file}${profile} until ${token.expiresAt}`,
      {
        url,
        profile: target.profile,
        user: me.username,
        roles: me.roles,
        scopes: token.scopes,
        tokenId: token.id,
        expiresAt: token.expiresAt,
        configFile: file,
      },
    );
    return 0;
  },
};

export const logout: Command = {
  usage: "",
  summary: "Revoke the stored token and forget it",
  anonymous: true,
  async run({ env, out, target }) {
    const stored = await storedLogin(target, env);
    if (!stored) throw new CliError(`not signed in (profile ${target.profile}, ${configFile(env)})`);
    if (stored.tokenId)
      await client(stored.url, stored.token)
        .request("DELETE", `/auth/api-tokens/${stored.tokenId}`)
        .catch(() => undefined);
    await forgetLogin(target, env);
    out.done(`Signed out of ${stored.url}`);
    return 0;
  },
};

export const whoami: Command = {
  usage: "",
  summary: "The signed-in user and the platform",
  async run({ api, out }) {
    const me = await api.get<Me>("/auth/me");
    out.record({ url: api.url, ...me }, ["url", "username", "email", "roles", "id"]);
    return 0;
  },
};
