/** The encryption keys of the local stack, for restores and drills against `npm run dev`. */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Against the local `npm run dev` stack, the keys it generated under .data/ (IPA_DATA_DIR moves
 * it): a newcomer restores a local backup without copying keys around. Never for a remote URL.
 */
export function localDevKeys(platformUrl = "http://localhost:8787"): string | undefined {
  if (process.env.R2_BUCKET) return undefined;
  if (!["localhost", "127.0.0.1", "[::1]"].includes(new URL(platformUrl).hostname)) return undefined;
  const data = process.env.IPA_DATA_DIR ?? fileURLToPath(new URL("../../../.data", import.meta.url));
  const file = `${data}/dev-secrets.json`;
  if (!existsSync(file)) return undefined;
  console.log(`using the local stack's ENCRYPTION_KEYS from ${file}`);
  return JSON.stringify((JSON.parse(readFileSync(file, "utf8")) as { encryptionKeys: unknown }).encryptionKeys);
}
