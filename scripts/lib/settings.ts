/** The settings of SPEC §7 that `npm run dev` forwards from its environment to the Worker. */

export const FORWARDED_SETTINGS = [
  "DATABASE_URL",
  "JWT_SECRET",
  "JWT_ISSUER",
  "JWT_AUDIENCE",
  "ENCRYPTION_KEYS",
  "ENCRYPTION_KEY_ID",
  "VERIFY_DATABASE_URL",
  "CORS_ORIGINS",
  "HTTP_STEP_ALLOWLIST",
  "METRICS_TOKEN",
  "LOGIN_MAX_FAILURES",
  "LOGIN_LOCK_SECONDS",
  "ALLOW_BUILTIN_PROVIDER",
  "BACKUP_ENCRYPTION_KEY_ID",
  "RETENTION_INCREMENTAL_DAYS",
  "RETENTION_DAILY_DAYS",
  "RETENTION_MONTHLY_DAYS",
  "LOG_ARCHIVE_AFTER_DAYS",
  // Model provider credentials that agents name with `apiKeySecret`.
  "OPENAI_API_KEY",
  "AZURE_OPENAI_API_KEY",
] as const;

/** Reads a dotenv-style file (`KEY=value`, optional quotes, `#` comments). */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq < 1) continue;
    const key = line
      .slice(0, eq)
      .trim()
      .replace(/^export\s+/, "");
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) {
      value = value.slice(1, -1);
    } else if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1).replace(/\\n/g, "\n");
    }
    out[key] = value;
  }
  return out;
}

/**
 * Writes values so that `parseDotenv` and wrangler's dotenv reader get them back unchanged:
 * single quotes are literal there, double quotes only expand `\n`.
 */
export function formatDotenv(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}=${quote(key, value)}`)
    .join("\n")
    .concat("\n");
}

function quote(key: string, value: string): string {
  if (value !== "" && !/[\s#"'=`\\]/.test(value)) return value;
  if (!value.includes("'") && !value.includes("\n")) return `'${value}'`;
  if (!value.includes('"') && !value.includes("\\n")) return `"${value.replace(/\n/g, "\\n")}"`;
  throw new Error(`${key} mixes quotes and newlines; it cannot be passed through a dotenv file`);
}
