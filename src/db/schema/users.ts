/** Accounts. Roles travel in access tokens, but `is_active` is checked on every request. */
import { sql } from "drizzle-orm";
import { boolean, check, pgEnum, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { timestamps, tstz } from "./columns";

export const userRole = pgEnum("user_role", ["admin", "user", "viewer"]);

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    email: text("email").notNull(),
    username: text("username").notNull(),
    passwordHash: text("password_hash").notNull(),
    fullName: text("full_name"),
    roles: userRole("roles").array().notNull(),
    isActive: boolean("is_active").notNull().default(true),
    lastLoginAt: tstz("last_login_at"),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("users_email_key").on(sql`lower(${t.email})`),
    uniqueIndex("users_username_key").on(sql`lower(${t.username})`),
    check("users_roles_not_empty", sql`cardinality(${t.roles}) between 1 and 3`),
    check("users_email_shape", sql`${t.email} ~ '^[^@\\s]+@[^@\\s]+$'`),
    check("users_username_shape", sql`${t.username} ~ '^[A-Za-z0-9._-]{3,64}$'`),
  ],
);
