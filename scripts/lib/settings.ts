/** The settings of docs/operations.md that `npm run dev` forwards from its environment to the Worker. */
import { SETTING_NAMES } from "../../src/config.ts";

/** Secrets wrangler.toml's `secrets.required` names: the only keys wrangler dev reads from an env file. */
export const REQUIRED_SECRETS = ["DATABASE_URL", "JWT_SECRET", "ENCRYPTION_KEYS"] as const;

/**
 * Every docs/operations.md setting the Worker parses (from its own schema), minus the local relay's two
 * endpoints the launcher sets itself, plus the provider keys agents name with `apiKeySecret`
 * (any `*_API_KEY`).
 */
export const FORWARDED_SETTINGS: readonly string[] = SETTING_NAMES.filter(
  (name) => name !== "NEON_WS_PROXY" && name !== "NEON_DIRECT_WS_PROXY",
);

/** The settings of `environment` that reach the Worker. */
export function forwardedFrom(environment: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(environment)) {
    if (value !== undefined && (FORWARDED_SETTINGS.includes(name) || /_API_KEY$/.test(name))) out[name] = value;
  }
  return out;
}

/**
 * Writes values so that Node's `util.parseEnv` and wrangler's dotenv reader get them back unchanged:
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
