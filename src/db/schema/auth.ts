/**
 * Shared authentication state: refresh-token families (one per login session), the opaque refresh
 * tokens rotated within them, revoked access-token ids, and login failures for lockout. All of it
 * lives in Postgres so every isolate sees a revocation or a lock at once.
 */
import { sql } from "drizzle-orm";
import { check, index, integer, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { tstz } from "./columns";
import { users } from "./users";

export const refreshTokenFamilies = pgTable(
  "refresh_token_families",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: tstz("created_at").notNull().defaultNow(),
    expiresAt: tstz("expires_at").notNull(),
    revokedAt: tstz("revoked_at"),
    revokedReason: text("revoked_reason"),
  },
  (t) => [index("refresh_token_families_user_idx").on(t.userId)],
);

export const refreshTokens = pgTable(
  "refresh_tokens",
  {
    /** sha256 of the opaque token, hex; the token itself is never stored. */
    tokenHash: text("token_hash").primaryKey(),
    familyId: uuid("family_id")
      .notNull()
      .references(() => refreshTokenFamilies.id, { onDelete: "cascade" }),
    createdAt: tstz("created_at").notNull().defaultNow(),
    expiresAt: tstz("expires_at").notNull(),
    /** Set when the token is exchanged; presenting it again revokes the family. */
    rotatedAt: tstz("rotated_at"),
  },
  (t) => [
    index("refresh_tokens_family_idx").on(t.familyId),
    check("refresh_tokens_hash_shape", sql`length(${t.tokenHash}) = 64`),
  ],
);

export const revokedAccessTokens = pgTable(
  "revoked_access_tokens",
  {
    jti: uuid("jti").primaryKey(),
    /** The token's own expiry: after it, the row is useless and is purged. */
    expiresAt: tstz("expires_at").notNull(),
  },
  (t) => [index("revoked_access_tokens_expires_idx").on(t.expiresAt)],
);

export const loginFailures = pgTable(
  "login_failures",
  {
    /** `account:<user id>` (its email and username are one account) or `ip:<address>`. */
    identifier: text("identifier").primaryKey(),
    failures: integer("failures").notNull().default(0),
    /** Guesses being checked right now: counted before any hash is computed, so concurrent guesses cannot overrun the limit. */
    inFlight: integer("in_flight").notNull().default(0),
    windowStartedAt: tstz("window_started_at").notNull().defaultNow(),
    lockedUntil: tstz("locked_until"),
  },
  (t) => [
    check("login_failures_count", sql`${t.failures} >= 0`),
    check("login_failures_in_flight", sql`${t.inFlight} >= 0`),
  ],
);
