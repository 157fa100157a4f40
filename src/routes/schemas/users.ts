/** Request and response schemas of users and authentication. */
import { z } from "@hono/zod-openapi";
import { Timestamp } from "./common";

export const Role = z.enum(["admin", "user", "viewer"]);

export const UserSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    username: z.string(),
    fullName: z.string().nullable(),
    roles: z.array(Role),
    isActive: z.boolean(),
    lastLoginAt: Timestamp.nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi("User");

const Email = z.email().max(254);
const Username = z.string().regex(/^[A-Za-z0-9._-]{3,64}$/, "3-64 letters, digits, dots, dashes or underscores");
/** Long enough to resist guessing; capped so hashing stays bounded. */
export const Password = z.string().min(12, "at least 12 characters").max(128, "at most 128 characters");

export const CreateUserBody = z
  .strictObject({
    email: Email,
    username: Username,
    password: Password,
    fullName: z.string().min(1).max(200).optional(),
    roles: z.array(Role).min(1).max(3),
  })
  .openapi("CreateUser");

export const UpdateUserBody = z
  .strictObject({
    email: Email.optional(),
    username: Username.optional(),
    password: Password.optional(),
    fullName: z.string().min(1).max(200).nullable().optional(),
    roles: z.array(Role).min(1).max(3).optional(),
    isActive: z.boolean().optional(),
  })
  .openapi("UpdateUser");

export const LoginBody = z
  .strictObject({
    email: z.string().min(1).max(254).optional(),
    username: z.string().min(1).max(254).optional(),
    password: z.string().min(1).max(1024),
    refreshIn: z.enum(["body", "cookie"]).optional().openapi({
      description:
        "Extension for browsers: `cookie` sets the refresh token as an httpOnly, Secure, SameSite=Strict cookie scoped to /api/v1/auth instead of returning it",
    }),
  })
  .refine((body) => Boolean(body.email) !== Boolean(body.username), {
    message: "give exactly one of email or username",
    path: ["email"],
  })
  .openapi("Login");

export const RefreshBody = z
  .strictObject({
    refreshToken: z
      .string()
      .min(16)
      .max(512)
      .optional()
      .openapi({ description: "Omit it (or send no body) to use the refresh cookie that a cookie login set" }),
  })
  .openapi("Refresh");

export const TokenPairSchema = z
  .object({
    accessToken: z.string(),
    refreshToken: z.string().optional().openapi({ description: "Absent when it travels in the refresh cookie" }),
    tokenType: z.literal("Bearer"),
    expiresIn: z.number().int().openapi({ example: 900 }),
    user: UserSchema,
  })
  .openapi("TokenPair");

export const MeSchema = UserSchema.extend({
  permissions: z
    .array(z.string())
    .openapi({ description: "what the caller may do now (an API token: within its scopes)" }),
  scopes: z
    .array(z.string())
    .nullable()
    .openapi({ description: "the API token's scopes when the caller presented one; null for a session" }),
}).openapi("Me");
