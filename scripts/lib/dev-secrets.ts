/**
 * Local secrets generated on the first `npm run dev` and kept under .data/ (git-ignored), so a
 * second start reuses the same database password, JWT key and encryption key.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

export interface DevSecrets {
  postgresPassword: string;
  jwtSecret: string;
  encryptionKeys: Record<string, string>;
  encryptionKeyId: string;
}

export async function loadOrCreateDevSecrets(path: string): Promise<DevSecrets> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as DevSecrets;
  } catch {
    const secrets: DevSecrets = {
      postgresPassword: randomBytes(18).toString("base64url"),
      jwtSecret: randomBytes(48).toString("base64url"),
      encryptionKeys: { local1: randomBytes(32).toString("base64") },
      encryptionKeyId: "local1",
    };
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, JSON.stringify(secrets, null, 2), { mode: 0o600 });
    return secrets;
  }
}
