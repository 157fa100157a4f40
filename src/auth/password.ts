/**
 * Password hashing with scrypt from node:crypto (available in workerd with nodejs_compat; PBKDF2
 * there is capped below OWASP's floor). Hashes are stored in PHC form with their parameters:
 * `$scrypt$ln=14,r=8,p=5$<salt>$<hash>`. Parameters read back are capped, so a crafted row cannot
 * make one login burn minutes of CPU or exhaust the isolate's memory.
 *
 * This module has no relative imports: the Node-side dev launcher uses it to create the first admin.
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** OWASP's scrypt floor that fits a 128 MB isolate: N = 2^14, r = 8, p = 5. */
export const SCRYPT_PARAMS = { logN: 14, r: 8, p: 5 } as const;

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
/** Upper bounds accepted when verifying a stored hash. */
const MAX = { logN: 16, r: 16, p: 16, cost: 2 ** 16 * 8 * 8 } as const;

interface ScryptParams {
  logN: number;
  r: number;
  p: number;
}

export async function hashPassword(password: string, params: ScryptParams = SCRYPT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(password, salt, params, KEY_LENGTH);
  return `$scrypt$ln=${params.logN},r=${params.r},p=${params.p}$${salt.toString("base64")}$${key.toString("base64")}`;
}

/** True when `password` matches `stored`; false for a mismatch or a malformed/over-costly hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed) return false;
  const key = await derive(password, parsed.salt, parsed.params, parsed.hash.length);
  return timingSafeEqual(key, parsed.hash);
}

/** True when a stored hash uses weaker parameters than today's and should be replaced at login. */
export function needsRehash(stored: string): boolean {
  const parsed = parseHash(stored);
  if (!parsed) return true;
  const { logN, r, p } = parsed.params;
  return logN < SCRYPT_PARAMS.logN || r < SCRYPT_PARAMS.r || p < SCRYPT_PARAMS.p;
}

/** A hash of a random password, for comparisons that must cost the same when a user is unknown. */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString("hex"));
  return decoy;
}

function parseHash(stored: string): { params: ScryptParams; salt: Buffer; hash: Buffer } | null {
  const match = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!match) return null;
  const params = { logN: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  if (
    params.logN < 10 ||
    params.logN > MAX.logN ||
    params.r < 1 ||
    params.r > MAX.r ||
    params.p < 1 ||
    params.p > MAX.p
  ) {
    return null;
  }
  if (2 ** params.logN * params.r * params.p > MAX.cost) return null;
  const salt = Buffer.from(match[4], "base64");
  const hash = Buffer.from(match[5], "base64");
  if (salt.length < 8 || hash.length < 16 || hash.length > 64) return null;
  return { params, salt, hash };
}

function derive(password: string, salt: Buffer, params: ScryptParams, length: number): Promise<Buffer> {
  const N = 2 ** params.logN;
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize("NFKC"),
      salt,
      length,
      { N, r: params.r, p: params.p, maxmem: 128 * N * params.r * 2 + 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}
