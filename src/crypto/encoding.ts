/** Byte encodings shared by the keyring, tokens and backups. */
import { createHash, timingSafeEqual as nodeTimingSafeEqual } from "node:crypto";

/** UTF-8 bytes of `text` (TextEncoder always returns a fresh, non-shared buffer). */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text) as Uint8Array<ArrayBuffer>;
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(length));
}

/** A URL-safe random token with `bytes` of entropy. */
export function randomToken(bytes = 32): string {
  return toBase64Url(randomBytes(bytes));
}

export async function sha256Hex(data: string | Uint8Array<ArrayBuffer>): Promise<string> {
  const bytes = typeof data === "string" ? utf8(data) : data;
  return toHex(await crypto.subtle.digest("SHA-256", bytes));
}

/**
 * Constant-time comparison of two strings (signatures, digests): node:crypto's, which workerd
 * provides under nodejs_compat and the Node-side tools that share this module have too.
 */
export function timingSafeEqual(a: string, b: string): boolean {
  const left = utf8(a);
  const right = utf8(b);
  // It throws on unequal lengths; a length is not the secret here (digests have a fixed one).
  return left.length === right.length && nodeTimingSafeEqual(left, right);
}

/**
 * Constant-time comparison of a presented credential with a configured secret of any length: both
 * are hashed first, so neither the comparison's time nor its early exit tells the secret's length.
 */
export function secretEquals(presented: string, secret: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return nodeTimingSafeEqual(digest(presented), digest(secret));
}

/** Hex HMAC-SHA256 of `message` under `secret` (webhook signatures, both ways). */
export async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return toHex(await crypto.subtle.sign("HMAC", key, utf8(message)));
}
