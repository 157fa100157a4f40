/** Creates the first admin for local development when the database has none. */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { hashPassword } from "../../src/auth/password.ts";

export interface AdminOutcome {
  created: boolean;
  email: string;
  /** Present only when the password was generated here (printed once, never stored). */
  generatedPassword?: string;
}

export async function ensureFirstAdmin(
  connectionString: string,
  email: string | undefined,
  password: string | undefined,
): Promise<AdminOutcome> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const existing = await client.query<{ email: string }>(
      "select email from users where 'admin' = any(roles) and is_active order by created_at limit 1",
    );
    const wanted = email?.toLowerCase();
    if (existing.rows[0] && (!wanted || existing.rows[0].email.toLowerCase() === wanted)) {
      return { created: false, email: existing.rows[0].email };
    }
    if (wanted) {
      const same = await client.query("select 1 from users where lower(email) = $1", [wanted]);
      if (same.rowCount) return { created: false, email: wanted };
    }
    const adminEmail = wanted ?? "admin@localhost.localdomain";
    const generatedPassword = password ? undefined : randomBytes(12).toString("base64url");
    const hash = await hashPassword(password ?? (generatedPassword as string));
    await client.query(
      `insert into users (email, username, password_hash, full_name, roles)
       values ($1, $2, $3, 'Administrator', '{admin}')`,
      [adminEmail, usernameFor(adminEmail), hash],
    );
    return { created: true, email: adminEmail, generatedPassword };
  } finally {
    await client.end();
  }
}

function usernameFor(email: string): string {
  const base = email
    .split("@")[0]
    .replace(/[^A-Za-z0-9._-]/g, "")
    .slice(0, 60);
  return base.length >= 3 ? base : `admin-${base}`;
}
