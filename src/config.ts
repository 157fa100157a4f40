/**
 * Settings of docs/operations.md, parsed once per environment object with their defaults. A missing or
 * malformed setting is a ConfigurationError: the operator reads which setting in the logs and in
 * `/health/ready`, clients get a generic 500, and `npm run dev` refuses to start. The same schema
 * serves all three (the dev launcher imports `settingsProblems`, hence no imports of Worker types).
 */
import { z } from "zod";

/** How the platform names itself to MCP peers, as a server (/mcp) and as a client (mcp tools). */
export const SERVER_INFO = { name: "ipa-platform", version: "1.0.0" };

/**
 * Fault injection for the soak and the fault tests (FAULT_INJECTION, refused outside local
 * development; queues/faults.ts injects them).
 */
export const FaultsSchema = z.strictObject({
  /** The first N report tries of a step's first claim in its run throw, as if the object were unreachable. */
  failReports: z.number().int().min(0).default(0),
  /** Each report attempt throws with this probability. */
  reportFailureRate: z.number().min(0).max(1).default(0),
  /** With this probability the consumer dies after the step ran, before reporting or stashing. */
  crashAfterRunRate: z.number().min(0).max(1).default(0),
});
export type Faults = z.infer<typeof FaultsSchema>;

export const NO_FAULTS: Faults = FaultsSchema.parse({});

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

/** `{ "<keyId>": "<base64 of 32 bytes>" }`; decoding errors name the key, never its value. */
const EncryptionKeys = z.string({ error: "ENCRYPTION_KEYS is required" }).transform((text, ctx) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    ctx.addIssue({ code: "custom", message: "must be JSON: { keyId: base64 32-byte key }" });
    return z.NEVER;
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed) || Object.keys(parsed).length === 0) {
    ctx.addIssue({ code: "custom", message: "must be a non-empty JSON object of keys" });
    return z.NEVER;
  }
  for (const [id, value] of Object.entries(parsed)) {
    if (typeof value !== "string" || !isBase64Of32Bytes(value) || id.includes(":")) {
      ctx.addIssue({ code: "custom", message: `key "${id}" must be the base64 of 32 random bytes (id without ':')` });
      return z.NEVER;
    }
  }
  return text;
});

const ModelPrices = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (!text) return {};
    const shape = z.record(
      z.string(),
      z.strictObject({ inputPerMTok: z.number().nonnegative(), outputPerMTok: z.number().nonnegative() }),
    );
    try {
      const parsed = shape.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
    } catch {
      // reported below
    }
    ctx.addIssue({ code: "custom", message: 'must be JSON: { "<model>": { inputPerMTok, outputPerMTok } }' });
    return z.NEVER;
  });

const SettingsSchema = z
  .object({
    DATABASE_URL: z
      .string({ error: "DATABASE_URL is required" })
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// connection string"),
    JWT_SECRET: z
      .string({ error: "JWT_SECRET is required" })
      .refine((value) => new TextEncoder().encode(value).length >= 32, "must be at least 32 bytes"),
    JWT_ISSUER: z.string().default("ipa-platform"),
    JWT_AUDIENCE: z.string().default("ipa-api"),
    ENCRYPTION_KEYS: EncryptionKeys,
    ENCRYPTION_KEY_ID: z.string().optional(),
    VERIFY_DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// connection string")
      .optional(),
    CORS_ORIGINS: list,
    HTTP_STEP_ALLOWLIST: list,
    METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
    LOGIN_MAX_FAILURES: positiveInt(5),
    LOGIN_LOCK_SECONDS: positiveInt(900),
    ALLOW_BUILTIN_PROVIDER: flag,
    BACKUP_ENCRYPTION_KEY_ID: z.string().optional(),
    BACKUP_ENCRYPTION: z.enum(["on", "off"]).default("on"),
    BACKUP_INCREMENTAL_MINUTES: positiveInt(1),
    RATE_LIMIT_USER_PER_MINUTE: positiveInt(600),
    RATE_LIMIT_IP_PER_MINUTE: positiveInt(60),
    QUOTA_WORKFLOWS_PER_USER: positiveInt(500),
    QUOTA_ACTIVE_EXECUTIONS_PER_USER: positiveInt(1000),
    QUOTA_SCHEDULES_PER_USER: positiveInt(50),
    QUOTA_API_TOKENS_PER_USER: positiveInt(50),
    QUOTA_VERSIONS_PER_WORKFLOW: positiveInt(1000),
    QUOTA_SECRETS_PER_WORKFLOW: positiveInt(100),
    MODEL_PRICES: ModelPrices,
    OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
    OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
    RETENTION_INCREMENTAL_DAYS: positiveInt(7),
    RETENTION_DAILY_DAYS: positiveInt(30),
    RETENTION_MONTHLY_DAYS: positiveInt(90),
    LOG_ARCHIVE_AFTER_DAYS: positiveInt(30),
    // A Worker invocation keeps 6 connections open; the object needs two for its own R2, queue and Postgres traffic.
    INLINE_STEP_ATTEMPTS: z.coerce.number().int().min(0).max(4).default(4),
    NEON_WS_PROXY: z.string().optional(),
    NEON_DIRECT_WS_PROXY: z.string().optional(),
    /** Local only (the soak, the fault tests): JSON of src/queues/faults.ts. */
    FAULT_INJECTION: z
      .string()
      .optional()
      .transform((text, ctx) => {
        if (!text) return NO_FAULTS;
        try {
          const parsed = FaultsSchema.safeParse(JSON.parse(text));
          if (parsed.success) return parsed.data;
        } catch {
          // reported below
        }
        ctx.addIssue({
          code: "custom",
          message: "must be JSON: { failReports?, reportFailureRate?, crashAfterRunRate? }",
        });
        return z.NEVER;
      }),
  })
  .superRefine((value, ctx) => {
    const ids = Object.keys(JSON.parse(value.ENCRYPTION_KEYS) as object);
    for (const name of ["ENCRYPTION_KEY_ID", "BACKUP_ENCRYPTION_KEY_ID"] as const) {
      const id = value[name];
      if (id && !ids.includes(id))
        ctx.addIssue({ code: "custom", path: [name], message: `"${id}" is not in ENCRYPTION_KEYS` });
    }
    if (value.FAULT_INJECTION !== NO_FAULTS && !value.ALLOW_BUILTIN_PROVIDER)
      ctx.addIssue({
        code: "custom",
        path: ["FAULT_INJECTION"],
        message: "is for local development only (with ALLOW_BUILTIN_PROVIDER=true)",
      });
    if (!value.ENCRYPTION_KEY_ID && ids.length > 1)
      ctx.addIssue({
        code: "custom",
        path: ["ENCRYPTION_KEY_ID"],
        message: "is required when ENCRYPTION_KEYS holds several keys",
      });
  });

export type Settings = z.infer<typeof SettingsSchema>;

/** Every setting's name, for the tools that pass settings on (the dev launcher). */
export const SETTING_NAMES = Object.keys(SettingsSchema.shape) as Array<keyof Settings>;

/** A setting is missing or malformed. `problems` name the settings, never their values. */
export class ConfigurationError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`invalid settings: ${problems.join("; ")}`);
    this.name = "ConfigurationError";
    this.problems = problems;
  }
}

const cache = new WeakMap<object, Settings>();

/** The parsed settings of `env`; throws a ConfigurationError naming every bad setting. */
export function settings(env: object): Settings {
  let parsed = cache.get(env);
  if (!parsed) {
    const result = SettingsSchema.safeParse(emptyToUndefined(env));
    if (!result.success) throw new ConfigurationError(problemsOf(result.error));
    parsed = result.data;
    cache.set(env, parsed);
  }
  return parsed;
}

/** Every problem with a set of settings as `NAME: what is wrong`; empty when they are sound. */
export function settingsProblems(values: Record<string, unknown>): string[] {
  const result = SettingsSchema.safeParse(emptyToUndefined(values));
  return result.success ? [] : problemsOf(result.error);
}

function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "settings");
    const message = issue.message.startsWith(name) ? issue.message.slice(name.length).trim() : issue.message;
    return `${name}: ${message.replace(/^Invalid input: expected \w+, received undefined$/, "is required")}`;
  });
}

/** Local tooling passes unset settings as empty strings; treat them as absent. */
function emptyToUndefined(env: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(env)) out[key] = value === "" ? undefined : value;
  return out;
}

function isBase64Of32Bytes(value: string): boolean {
  if (!/^[A-Za-z0-9+/]{43}=$/.test(value)) return false;
  return atob(value).length === 32;
}
