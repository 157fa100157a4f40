/**
 * Signed backup manifests (docs/backups.md). The signature is an HMAC-SHA256 over the manifest without its
 * `signature` field (keys sorted, so any writer and reader agree on the bytes), keyed by a key
 * derived with HKDF (info `ipa-backup-manifest`) from a keyring key. Someone who can write the
 * bucket but not read the keyring cannot make a manifest that verifies; a manifest that verifies
 * vouches for every object's size and sha256. Shared by the Worker and the restore CLI.
 */
import { toHex, utf8 } from "../crypto/encoding.ts";
import type { Keyring } from "../crypto/keyring.ts";

export const MANIFEST_SIGNATURE_INFO = "ipa-backup-manifest";

export interface ManifestSignature {
  keyId: string;
  hmacSha256: string;
}

export class SignatureError extends Error {}

/** The manifest with its signature. */
export async function signManifest<T extends object>(
  manifest: T,
  keyring: Keyring,
  keyId = keyring.currentKeyId,
): Promise<T & { signature: ManifestSignature }> {
  const key = await keyring.hmacKey(keyId, MANIFEST_SIGNATURE_INFO);
  const mac = await crypto.subtle.sign("HMAC", key, utf8(canonicalJson(unsigned(manifest))));
  return { ...manifest, signature: { keyId, hmacSha256: toHex(mac) } };
}

/** Throws SignatureError unless `manifest` carries a signature this keyring made over exactly it. */
export async function assertSigned(manifest: object, keyring: Keyring): Promise<void> {
  const signature = (manifest as { signature?: Partial<ManifestSignature> }).signature;
  if (!signature?.keyId || !signature.hmacSha256) throw new SignatureError("the manifest is not signed");
  if (!keyring.has(signature.keyId))
    throw new SignatureError(`the manifest is signed with key "${signature.keyId}", which is not in ENCRYPTION_KEYS`);
  if (!/^[0-9a-f]{64}$/.test(signature.hmacSha256)) throw new SignatureError("the manifest's signature is malformed");
  const key = await keyring.hmacKey(signature.keyId, MANIFEST_SIGNATURE_INFO);
  const valid = await crypto.subtle.verify(
    "HMAC",
    key,
    hexBytes(signature.hmacSha256),
    utf8(canonicalJson(unsigned(manifest))),
  );
  if (!valid) throw new SignatureError("the manifest's signature does not match its contents");
}

function unsigned(manifest: object): object {
  const { signature: _signature, ...rest } = manifest as { signature?: unknown };
  return rest;
}

/** JSON with object keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

function hexBytes(hex: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array((hex.match(/../g) ?? []).map((byte) => Number.parseInt(byte, 16)));
}
