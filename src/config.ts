/**
 * Settings of SPEC §7, parsed once per environment object with their defaults. A missing or
 * malformed required setting fails loudly here rather than deep inside a request.
 */
import { z } from "zod";
import type { Bindings } from "./env";

const list = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? "")
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean),
  );
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const flag = z
  .string()
  .optional()
  .transform((value) => value === "true");

const SettingsSchema = z.object({
  DATABASE_URL: z.string().min(1, "DATABASE_URL is required"),
  JWT_SECRET: z
    .string({ error: "JWT_SECRET is required" })
    .refine((value) => new TextEncoder().encode(value).length >= 32, "JWT_SECRET must be at least 32 bytes"),
  JWT_ISSUER: z.string().default("ipa-platform"),
  JWT_AUDIENCE: z.string().default("ipa-api"),
  ENCRYPTION_KEYS: z.string().optional(),
  ENCRYPTION_KEY_ID: z.string().optional(),
  VERIFY_DATABASE_URL: z.string().optional(),
  CORS_ORIGINS: list,
  HTTP_STEP_ALLOWLIST: list,
  METRICS_TOKEN: z.string().optional(),
  LOGIN_MAX_FAILURES: positiveInt(5),
  LOGIN_LOCK_SECONDS: positiveInt(900),
  ALLOW_BUILTIN_PROVIDER: flag,
  BACKUP_ENCRYPTION_KEY_ID: z.string().optional(),
  RETENTION_INCREMENTAL_DAYS: positiveInt(7),
  RETENTION_DAILY_DAYS: positiveInt(30),
  RETENTION_MONTHLY_DAYS: positiveInt(90),
  LOG_ARCHIVE_AFTER_DAYS: positiveInt(30),
  NEON_WS_PROXY: z.string().optional(),
});

export type Settings = z.infer<typeof SettingsSchema>;

const cache = new WeakMap<object, Settings>();

/** The parsed settings of `env`; throws a ZodError naming every bad setting. */
export function settings(env: Bindings): Settings {
  let parsed = cache.get(env);
  if (!parsed) {
    parsed = SettingsSchema.parse(emptyToUndefined(env));
    cache.set(env, parsed);
  }
  return parsed;
}

/** Local tooling passes unset settings as empty strings; treat them as absent. */
function emptyToUndefined(env: Bindings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(env)) out[key] = value === "" ? undefined : value;
  return out;
}
