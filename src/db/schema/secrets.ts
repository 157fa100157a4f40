/**
 * Secrets (docs/api.md, docs/workflows.md): platform secrets (admins) and workflow secrets (the workflow's owner),
 * write-only, sealed with the keyring and bound to their row; templates name them as
 * `{{secrets.NAME}}` and only the steps consumer opens them, when it sends the request.
 */
import { sql } from "drizzle-orm";
import { boolean, check, index, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { timestamps, tstz } from "./columns";
import { users } from "./users";
import { workflows } from "./workflows";

export const secrets = pgTable(
  "secrets",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** Null for a platform secret. */
    workflowId: uuid("workflow_id").references(() => workflows.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** Keyring-sealed value, bound to this row; never returned. */
    value: text("value").notNull(),
    /** Hosts (names or `*.suffix`) a request carrying the value may go to; null: any. */
    allowedHosts: text("allowed_hosts").array(),
    /** A platform secret that users' workflows may use too (admins' workflows always may). */
    sharedWithUsers: boolean("shared_with_users").notNull().default(false),
    createdBy: uuid("created_by").references(() => users.id),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("secrets_platform_name_key").on(t.name).where(sql`${t.workflowId} is null`),
    uniqueIndex("secrets_workflow_name_key").on(t.workflowId, t.name).where(sql`${t.workflowId} is not null`),
    index("secrets_workflow_idx").on(t.workflowId),
    check("secrets_name_shape", sql`${t.name} ~ '^[A-Z][A-Z0-9_]{0,63}$'`),
  ],
);

/**
 * Personal API tokens (docs/api.md) for CLIs, CI and MCP clients: `ipa_…`, stored as their sha256,
 * acting with the owner's current roles, refused at once when revoked or the owner is deactivated.
 */
export const apiTokens = pgTable(
  "api_tokens",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    tokenHash: text("token_hash").notNull(),
    /** The first characters of the token, so its owner can tell tokens apart. */
    prefix: text("prefix").notNull(),
    /** The permissions it may use (of those its owner's roles grant); null for tokens older than scopes. */
    scopes: text("scopes").array(),
    expiresAt: tstz("expires_at").notNull(),
    lastUsedAt: tstz("last_used_at"),
    revokedAt: tstz("revoked_at"),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("api_tokens_hash_key").on(t.tokenHash),
    index("api_tokens_user_idx").on(t.userId),
    check("api_tokens_name_length", sql`char_length(${t.name}) between 1 and 100`),
  ],
);
