/**
 * The keyring of docs/operations.md: AES-256-GCM field encryption with a fresh 96-bit IV per value, the key
 * id stored beside the ciphertext, and associated data that binds a value to its row and column,
 * so a ciphertext copied to another row or column does not decrypt. Rotation: new writes use
 * ENCRYPTION_KEY_ID, older ids still decrypt, and `reencrypt` moves a value to the current key.
 * Also used by the restore CLI in Node (WebCrypto there too), hence its explicit `.ts` imports.
 */
import { fromBase64, randomBytes, toBase64Url, utf8 } from "./encoding.ts";

/** Where an encrypted value lives; becomes the GCM associated data. */
export interface FieldBinding {
  table: string;
  column: string;
  rowId: string;
}

const FORMAT = "enc1";

export class KeyringError extends Error {}

export class Keyring {
  private readonly keys: Map<string, Promise<CryptoKey>>;
  /** The same keys as HKDF input, for keys derived per purpose (backup manifest signatures). */
  private readonly derivable: Map<string, Promise<CryptoKey>>;
  readonly currentKeyId: string;

  constructor(rawKeys: Record<string, Uint8Array<ArrayBuffer>>, currentKeyId: string) {
    if (!rawKeys[currentKeyId]) throw new KeyringError(`ENCRYPTION_KEY_ID "${currentKeyId}" is not in ENCRYPTION_KEYS`);
    this.currentKeyId = currentKeyId;
    this.keys = new Map(
      Object.entries(rawKeys).map(([id, raw]) => {
        if (raw.length !== 32) throw new KeyringError(`encryption key "${id}" must be 32 bytes`);
        if (id.includes(":")) throw new KeyringError(`encryption key id "${id}" must not contain ':'`);
        return [id, crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"])];
      }),
    );
    this.derivable = new Map(
      Object.entries(rawKeys).map(([id, raw]) => [
        id,
        crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveKey"]),
      ]),
    );
  }

  /** Whether `keyId` is in the ring. */
  has(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  /** An HMAC-SHA256 key derived from key `keyId` for one purpose (HKDF-SHA256, `info`), never the key itself. */
  async hmacKey(keyId: string, info: string): Promise<CryptoKey> {
    const base = this.derivable.get(keyId);
    if (!base) throw new KeyringError(`unknown encryption key id "${keyId}"`);
    return crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: utf8(info) },
      await base,
      { name: "HMAC", hash: "SHA-256", length: 256 },
      false,
      ["sign", "verify"],
    );
  }

  /** Parses ENCRYPTION_KEYS (`{"<id>": "<base64 32 bytes>"}`) and ENCRYPTION_KEY_ID. */
  static fromSettings(keysJson: string | undefined, currentKeyId: string | undefined): Keyring {
    if (!keysJson) throw new KeyringError("ENCRYPTION_KEYS is not set");
    let parsed: unknown;
    try {
      parsed = JSON.parse(keysJson);
    } catch {
      throw new KeyringError("ENCRYPTION_KEYS is not valid JSON");
    }
    if (!parsed || typeof parsed !== "object") throw new KeyringError("ENCRYPTION_KEYS must be a JSON object");
    const raw: Record<string, Uint8Array<ArrayBuffer>> = {};
    for (const [id, value] of Object.entries(parsed)) {
      if (typeof value !== "string") throw new KeyringError(`encryption key "${id}" must be a base64 string`);
      raw[id] = fromBase64(value);
    }
    const ids = Object.keys(raw);
    const current = currentKeyId ?? (ids.length === 1 ? ids[0] : undefined);
    if (!current) throw new KeyringError("ENCRYPTION_KEY_ID is required when ENCRYPTION_KEYS holds several keys");
    return new Keyring(raw, current);
  }

  async encrypt(plaintext: string, binding: FieldBinding): Promise<string> {
    return this.encryptBytes(utf8(plaintext), associatedData(binding), this.currentKeyId);
  }

  async decrypt(sealed: string, binding: FieldBinding): Promise<string> {
    return new TextDecoder().decode(await this.decryptBytes(sealed, associatedData(binding)));
  }

  /** The key id a sealed value was written with. */
  keyIdOf(sealed: string): string {
    return parse(sealed).keyId;
  }

  /** Re-seals `sealed` under the current key; returns null when it already uses it. */
  async reencrypt(sealed: string, binding: FieldBinding): Promise<string | null> {
    if (this.keyIdOf(sealed) === this.currentKeyId) return null;
    return this.encrypt(await this.decrypt(sealed, binding), binding);
  }

  private async encryptBytes(
    plaintext: Uint8Array<ArrayBuffer>,
    aad: Uint8Array<ArrayBuffer>,
    keyId: string,
  ): Promise<string> {
    const key = await this.key(keyId);
    const iv = randomBytes(12);
    const ciphertext = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, key, plaintext);
    return [FORMAT, keyId, toBase64Url(iv), toBase64Url(new Uint8Array(ciphertext))].join(":");
  }

  private async decryptBytes(sealed: string, aad: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
    const { keyId, iv, ciphertext } = parse(sealed);
    const key = await this.key(keyId);
    try {
      return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad }, key, ciphertext));
    } catch {
      throw new KeyringError("the value does not decrypt here (tampered, or bound to another row)");
    }
  }

  /** Raw AES-GCM with a given key id over binary chunks (no text envelope). */
  async sealChunk(
    plaintext: Uint8Array<ArrayBuffer>,
    aad: Uint8Array<ArrayBuffer>,
    keyId: string,
  ): Promise<Uint8Array<ArrayBuffer>> {
    const key = await this.key(keyId);
    const iv = randomBytes(12);
    const ciphertext = new Uint8Array(
      await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, key, plaintext),
    );
    const out = new Uint8Array(12 + ciphertext.length);
    out.set(iv);
    out.set(ciphertext, 12);
    return out;
  }

  async openChunk(
    sealed: Uint8Array<ArrayBuffer>,
    aad: Uint8Array<ArrayBuffer>,
    keyId: string,
  ): Promise<Uint8Array<ArrayBuffer>> {
    const key = await this.key(keyId);
    try {
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: sealed.slice(0, 12), additionalData: aad },
        key,
        sealed.slice(12),
      );
      return new Uint8Array(plain);
    } catch {
      throw new KeyringError("a chunk does not decrypt (tampered, reordered or truncated)");
    }
  }

  private key(keyId: string): Promise<CryptoKey> {
    const key = this.keys.get(keyId);
    if (!key) throw new KeyringError(`unknown encryption key id "${keyId}"`);
    return key;
  }
}

function associatedData(binding: FieldBinding): Uint8Array<ArrayBuffer> {
  return utf8(`${binding.table}\u0000${binding.column}\u0000${binding.rowId}`);
}

function parse(sealed: string) {
  const parts = sealed.split(":");
  if (parts.length !== 4 || parts[0] !== FORMAT) throw new KeyringError("not an encrypted value");
  return { keyId: parts[1], iv: fromBase64(parts[2]), ciphertext: fromBase64(parts[3]) };
}
