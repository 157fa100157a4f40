/**
 * Test principals. `createUser` inserts a real user row; `signIn` opens a real session and mints
 * its access token with the Worker's own code (skipping only the deliberately slow password
 * hash), while `login` goes through POST /auth/login.
 */
import { env } from "cloudflare:workers";
import { hashPassword } from "../../src/auth/password";
import { permissionsFor } from "../../src/auth/permissions";
import type { Role } from "../../src/auth/principal";
import { openSession } from "../../src/auth/sessions";
import { issueAccessToken } from "../../src/auth/tokens";
import { settings } from "../../src/config";
import { query, withDb } from "./db";
import { callJson } from "./http";

export const TEST_PASSWORD = "correct-horse-battery-staple";

export interface TestUser {
  id: string;
  email: string;
  username: string;
  roles: Role[];
  token: string;
  refreshToken: string;
}

let passwordHash: Promise<string> | undefined;

export function uniqueName(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

export async function createUser(
  role: Role,
  options: { active?: boolean } = {},
): Promise<Omit<TestUser, "token" | "refreshToken">> {
  passwordHash ??= hashPassword(TEST_PASSWORD);
  const username = uniqueName(role);
  const email = `${username}@example.test`;
  const [row] = await query<{ id: string }>(
    "insert into users (email, username, password_hash, full_name, roles, is_active) values ($1, $2, $3, $4, $5, $6) returning id",
    [email, username, await passwordHash, `Test ${role}`, `{${role}}`, options.active ?? true],
  );
  return { id: row.id, email, username, roles: [role] };
}

/** A user with a live session and access token. */
export async function signIn(role: Role): Promise<TestUser> {
  const user = await createUser(role);
  return { ...user, ...(await mintTokens(user)) };
}

export async function mintTokens(user: { id: string; email: string; username: string; roles: Role[] }) {
  return withDb(async ({ db }) => {
    const session = await openSession(db, user.id);
    const access = await issueAccessToken(
      settings(env),
      {
        id: user.id,
        email: user.email,
        name: user.username,
        roles: user.roles,
        permissions: permissionsFor(user.roles),
      },
      session.familyId,
    );
    return { token: access.token, refreshToken: session.refreshToken };
  });
}

export async function login(identifier: { email?: string; username?: string }, password = TEST_PASSWORD) {
  return callJson("/api/v1/auth/login", { body: { ...identifier, password } });
}
